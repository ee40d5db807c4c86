import CKneeForce
import Foundation

public final class CLBuffer: DeviceBuffer {
  public let count: Int
  let mem: cl_mem

  init(mem: cl_mem, count: Int) {
    self.mem = mem
    self.count = count
  }

  deinit { clReleaseMemObject(mem) }
}

enum KernelArg {
  /// A 32-bit `int`; a value outside its range throws rather than traps or wraps.
  case int(Int)
  /// A 64-bit `long`, for offsets and element counts that can pass 2^31.
  case long(Int)
  case uint(UInt32)
  case float(Float)
  case buffer(BufferSlice)
  case local(floats: Int)
}

/// The OpenCL backend: CLBlast for GEMMs, the kernels of `Kernels/` for everything else, one
/// in-order queue. All launches are asynchronous; `download` and `synchronize` wait.
public final class OpenCLBackend: ComputeBackend {
  public let kind = BackendKind.opencl
  public var gemmFLOPs: Double = 0
  public let device: OpenCLDeviceInfo
  /// Whether the program came from the on-disk cache, was built (miss) or rebuilt (corrupt).
  public let cacheOutcome: ProgramCache.Outcome
  /// Seconds spent building or loading the program, reported apart from steady state.
  public let buildSeconds: Double
  public let kernelOrigin: String
  let context: cl_context
  var queue: cl_command_queue?
  let program: cl_program
  private var kernels: [String: cl_kernel] = [:]
  var scratch: CLBuffer!
  static let reductionGroups = 256
  static let reductionLocal = 256

  public var deviceName: String { "\(device.name) (\(device.platformName))" }

  public init(device: OpenCLDeviceInfo, cache: ProgramCache = ProgramCache()) throws {
    self.device = device
    var status: cl_int = 0
    var deviceID: cl_device_id? = device.id
    guard let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status),
      status == CL_SUCCESS
    else { throw OpenCLError.call("clCreateContext", status) }
    self.context = context
    guard let queue = clCreateCommandQueue(context, device.id, 0, &status), status == CL_SUCCESS
    else {
      clReleaseContext(context)
      throw OpenCLError.call("clCreateCommandQueue", status)
    }
    self.queue = queue
    let started = Date()
    let (source, origin) = try KernelSources.load()
    kernelOrigin = origin
    let options = "-cl-std=CL1.2"
    let key = ProgramCache.key(device: device, source: source, options: options)
    var (binary, outcome) = cache.load(key: key)
    var program: cl_program?
    if let binary {
      program = try? Self.buildFromBinary(context, device, binary, options)
      if program == nil {
        outcome = .corrupt
        cache.remove(key: key)
      }
    }
    if program == nil {
      program = try Self.buildFromSource(context, device, source, options)
      if let built = Self.programBinary(program!) { cache.store(key: key, binary: built) }
    }
    self.program = program!
    cacheOutcome = outcome
    buildSeconds = Date().timeIntervalSince(started)
    scratch = try makeBuffer(count: Self.reductionGroups) as? CLBuffer
    try CLBlastTuning.applyFromEnvironment(device: device)
  }

  deinit {
    for kernel in kernels.values { clReleaseKernel(kernel) }
    clReleaseProgram(program)
    if let queue { clReleaseCommandQueue(queue) }
    clReleaseContext(context)
  }

  static func buildLog(_ program: cl_program, _ device: OpenCLDeviceInfo) -> String {
    var size = 0
    clGetProgramBuildInfo(
      program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size)
    var bytes = [CChar](repeating: 0, count: max(size, 1))
    clGetProgramBuildInfo(
      program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &bytes, nil)
    return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func buildFromSource(
    _ context: cl_context, _ device: OpenCLDeviceInfo, _ source: String, _ options: String
  ) throws -> cl_program {
    var status: cl_int = 0
    let program: cl_program? = source.withCString { text in
      var pointer: UnsafePointer<CChar>? = text
      var length = strlen(text)
      return clCreateProgramWithSource(context, 1, &pointer, &length, &status)
    }
    guard let program, status == CL_SUCCESS else {
      throw OpenCLError.call("clCreateProgramWithSource", status)
    }
    var id: cl_device_id? = device.id
    let built = clBuildProgram(program, 1, &id, options, nil, nil)
    if built != CL_SUCCESS {
      let log = buildLog(program, device)
      clReleaseProgram(program)
      throw OpenCLError.build(device: device.name, log: log.isEmpty ? openCLErrorName(built) : log)
    }
    return program
  }

  static func buildFromBinary(
    _ context: cl_context, _ device: OpenCLDeviceInfo, _ binary: [UInt8], _ options: String
  ) throws -> cl_program {
    var status: cl_int = 0
    var binaryStatus: cl_int = 0
    var id: cl_device_id? = device.id
    var length = binary.count
    let program: cl_program? = binary.withUnsafeBufferPointer { buffer in
      var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
      return clCreateProgramWithBinary(
        context, 1, &id, &length, &pointer, &binaryStatus, &status)
    }
    guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
      if let program { clReleaseProgram(program) }
      throw OpenCLError.call("clCreateProgramWithBinary", status)
    }
    let built = clBuildProgram(program, 1, &id, options, nil, nil)
    guard built == CL_SUCCESS else {
      clReleaseProgram(program)
      throw OpenCLError.call("clBuildProgram (binary)", built)
    }
    return program
  }

  static func programBinary(_ program: cl_program) -> [UInt8]? {
    var size = 0
    guard
      clGetProgramInfo(
        program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
        == CL_SUCCESS, size > 0
    else { return nil }
    var binary = [UInt8](repeating: 0, count: size)
    let status = binary.withUnsafeMutableBufferPointer { buffer -> cl_int in
      var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
      return clGetProgramInfo(
        program, cl_program_info(CL_PROGRAM_BINARIES),
        MemoryLayout<UnsafeMutablePointer<UInt8>>.size,
        &pointer, nil)
    }
    return status == CL_SUCCESS ? binary : nil
  }

  func kernel(_ name: String) throws -> cl_kernel {
    if let kernel = kernels[name] { return kernel }
    var status: cl_int = 0
    guard let kernel = clCreateKernel(program, name, &status), status == CL_SUCCESS else {
      throw OpenCLError.call("clCreateKernel(\(name))", status)
    }
    kernels[name] = kernel
    return kernel
  }

  func mem(_ slice: BufferSlice, _ count: Int, _ what: @autoclosure () -> String) throws -> cl_mem {
    guard let buffer = slice.buffer as? CLBuffer else { throw ComputeError.wrongBuffer(what()) }
    guard slice.offset >= 0, count >= 0, slice.offset + count <= buffer.count else {
      throw ComputeError.outOfBounds(
        "\(what()): offset \(slice.offset) + \(count) > \(buffer.count)")
    }
    return buffer.mem
  }

  /// Launches a 1-D kernel over `global` work-items, padded to whole work-groups (the kernels
  /// bounds-check), since drivers pick poor group sizes for odd totals.
  func launch(_ name: String, global: Int, local: Int = 64, _ args: [KernelArg]) throws {
    guard global > 0 else { return }
    let kernel = try kernel(name)
    for (index, arg) in args.enumerated() {
      let i = cl_uint(index)
      let status: cl_int
      switch arg {
      case .int(let v):
        guard var x = Int32(exactly: v) else {
          throw ComputeError.outOfBounds(
            "\(name) argument \(index): \(v) does not fit a 32-bit int")
        }
        status = clSetKernelArg(kernel, i, 4, &x)
      case .long(let v):
        var x = Int64(v)
        status = clSetKernelArg(kernel, i, 8, &x)
      case .uint(let v):
        var x = v
        status = clSetKernelArg(kernel, i, 4, &x)
      case .float(let v):
        var x = v
        status = clSetKernelArg(kernel, i, 4, &x)
      case .buffer(let slice):
        guard var m = (slice.buffer as? CLBuffer)?.mem else {
          throw ComputeError.wrongBuffer("\(name) argument \(index)")
        }
        status = clSetKernelArg(kernel, i, MemoryLayout<cl_mem>.size, &m)
      case .local(let floats):
        status = clSetKernelArg(kernel, i, floats * 4, nil)
      }
      try clCheck(status, "clSetKernelArg(\(name), \(index))")
    }
    var globalSize = (global + local - 1) / local * local
    var localSize = local
    try clCheck(
      clEnqueueNDRangeKernel(queue, kernel, 1, nil, &globalSize, &localSize, 0, nil, nil),
      "clEnqueueNDRangeKernel(\(name))")
  }

  public func makeBuffer(count: Int) throws -> DeviceBuffer {
    var status: cl_int = 0
    let bytes = max(count, 1) * 4
    guard
      let mem = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status),
      status == CL_SUCCESS
    else { throw OpenCLError.call("clCreateBuffer(\(bytes) bytes)", status) }
    let buffer = CLBuffer(mem: mem, count: count)
    try fill(BufferSlice(buffer), count: count, value: 0)
    return buffer
  }

  public func upload(_ values: [Float], to slice: BufferSlice) throws {
    let m = try mem(slice, values.count, "upload")
    guard !values.isEmpty else { return }
    try clCheck(
      clEnqueueWriteBuffer(
        queue, m, cl_bool(CL_TRUE), slice.offset * 4, values.count * 4, values, 0, nil, nil),
      "clEnqueueWriteBuffer")
  }

  public func download(_ slice: BufferSlice, count: Int) throws -> [Float] {
    let m = try mem(slice, count, "download")
    var values = [Float](repeating: 0, count: count)
    guard count > 0 else { return values }
    try clCheck(
      clEnqueueReadBuffer(
        queue, m, cl_bool(CL_TRUE), slice.offset * 4, count * 4, &values, 0, nil, nil),
      "clEnqueueReadBuffer")
    return values
  }

  public func fill(_ slice: BufferSlice, count: Int, value: Float) throws {
    let m = try mem(slice, count, "fill")
    guard count > 0 else { return }
    var pattern = value
    try clCheck(
      clEnqueueFillBuffer(queue, m, &pattern, 4, slice.offset * 4, count * 4, 0, nil, nil),
      "clEnqueueFillBuffer")
  }

  public func copy(from source: BufferSlice, to destination: BufferSlice, count: Int) throws {
    let s = try mem(source, count, "copy source")
    let d = try mem(destination, count, "copy destination")
    guard count > 0 else { return }
    try clCheck(
      clEnqueueCopyBuffer(
        queue, s, d, source.offset * 4, destination.offset * 4, count * 4, 0, nil, nil),
      "clEnqueueCopyBuffer")
  }

  public func synchronize() throws { try clCheck(clFinish(queue), "clFinish") }

  public func gemm(_ g: Gemm) throws {
    gemmFLOPs += g.flops
    let extents = g.extents
    let a = try mem(g.a, extents.a, "gemm A")
    let b = try mem(g.b, extents.b, "gemm B")
    let c = try mem(g.c, extents.c, "gemm C")
    let ta = g.transA ? CLBlastTransposeYes : CLBlastTransposeNo
    let tb = g.transB ? CLBlastTransposeYes : CLBlastTransposeNo
    // Every product goes through the strided-batched routine, a single one too: a fold model
    // alone (batch 1 per layer) then runs the same kernels as among others, bit for bit.
    // CLBlast checks a buffer against `stride * batch`, so a single product states its extent
    // as its stride (the value is otherwise unused).
    let single = g.batch == 1
    let status = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, ta, tb, g.m, g.n, g.k, g.alpha, a, g.a.offset, g.lda,
      single ? extents.a : g.strideA, b, g.b.offset, g.ldb, single ? extents.b : g.strideB,
      g.beta, c, g.c.offset, g.ldc, single ? extents.c : g.strideC, g.batch, &queue, nil)
    if status != CLBlastSuccess {
      throw OpenCLError.clblast("SgemmStridedBatched", status.rawValue)
    }
  }
}
