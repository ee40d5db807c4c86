/// Which shard of `--shard I/N` runs which unit: a pure function of the planned units, so
/// every shard of a sweep (and a Slurm job array) computes the same assignment.
///
/// Each unit costs its budget (training sequences x max epochs x members; a baseline its
/// training sequences). Groups of units that fold-batch together (same model and feature
/// set) are taken largest first and placed whole on the least-loaded shard when that keeps
/// it within `tolerance` of an even share (`total / N`); a group that does not fit is split
/// and its units, largest first, go one by one to the least-loaded shard. Ties go to the
/// lower shard, and equal costs keep plan order, so the result is deterministic.
public enum ShardAssignment {
  /// The 0-based shard of each unit, in the order of `costs`.
  public static func assign(
    costs: [Double], groups: [String], count: Int, tolerance: Double = 0.1
  ) -> [Int] {
    precondition(costs.count == groups.count && count >= 1)
    var shard = [Int](repeating: 0, count: costs.count)
    guard count > 1 else { return shard }
    var order: [String] = []
    var members: [String: [Int]] = [:]
    for (i, g) in groups.enumerated() {
      if members[g] == nil { order.append(g) }
      members[g, default: []].append(i)
    }
    let groupCost = order.map { g in members[g]!.reduce(0) { $0 + costs[$1] } }
    let total = costs.reduce(0, +)
    let limit = total / Double(count) * (1 + tolerance)
    var loads = [Double](repeating: 0, count: count)
    func lightest() -> Int { loads.indices.min { loads[$0] < loads[$1] }! }
    let byCost = order.indices.sorted {
      groupCost[$0] != groupCost[$1] ? groupCost[$0] > groupCost[$1] : $0 < $1
    }
    for g in byCost {
      let s = lightest()
      let units = members[order[g]]!
      if loads[s] + groupCost[g] <= limit {
        for u in units { shard[u] = s }
        loads[s] += groupCost[g]
        continue
      }
      let sorted = units.sorted { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }
      for u in sorted {
        let t = lightest()
        shard[u] = t
        loads[t] += costs[u]
      }
    }
    return shard
  }

  /// The units of shard `index` (1-based) of `count`, in plan order.
  public static func units(_ units: [PlannedUnit], shard index: Int, of count: Int)
    -> [PlannedUnit]
  {
    let shards = assign(costs: units.map(\.cost), groups: units.map(\.group), count: count)
    return units.indices.filter { shards[$0] == index - 1 }.map { units[$0] }
  }
}
