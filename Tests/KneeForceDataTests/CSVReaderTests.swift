import XCTest

@testable import KneeForceData

final class CSVReaderTests: XCTestCase {
  private func parse(_ text: String) -> ([CSVRecord], [CSVSyntaxIssue]) {
    CSVReader.parse(Array(text.utf8))
  }

  func testQuotedFieldsWithCommasQuotesAndNewlinesKeepLineNumbers() {
    let (records, issues) = parse(
      "a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",3\n4,5,6\n")
    XCTAssertEqual(issues, [])
    XCTAssertEqual(records.map(\.line), [1, 2, 3, 5])
    XCTAssertEqual(records[1].fields, ["1", "x, y", "say \"hi\""])
    XCTAssertEqual(records[2].fields, ["2", "two\nlines", "3"])
  }

  func testByteOrderMarkCRLFAndBlankLines() {
    let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a,b\r\n1,2\r\n\r\n3,4\r\n".utf8)
    let (records, issues) = CSVReader.parse(bytes)
    XCTAssertEqual(issues, [])
    XCTAssertEqual(records.map(\.fields), [["a", "b"], ["1", "2"], ["3", "4"]])
    XCTAssertEqual(records.map(\.line), [1, 2, 4])
  }

  func testUnquotedFieldsAreTrimmedAndEmptyCellsKept() {
    let (records, _) = parse(" a , b ,\n1,,3")
    XCTAssertEqual(records.map(\.fields), [["a", "b", ""], ["1", "", "3"]])
  }

  func testUnterminatedQuoteIsReportedNotFatal() {
    let (records, issues) = parse("a,b\n1,\"open\n2,3\n")
    XCTAssertEqual(issues.count, 1)
    XCTAssertEqual(issues.first?.line, 2)
    XCTAssertEqual(issues.first?.column, 2)
    XCTAssertEqual(records.count, 2)
  }

  func testEscapeRoundTrips() {
    let values = ["plain", "with, comma", "with \"quote\"", "two\nlines", " padded "]
    let line = values.map(CSVReader.escape).joined(separator: ",")
    let (records, issues) = parse(line + "\n")
    XCTAssertEqual(issues, [])
    XCTAssertEqual(records.first?.fields, values)
  }

  func testDecimalFormatter() {
    func text(_ value: Double, _ decimals: Int) -> String {
      var out: [UInt8] = []
      DecimalFormatter.append(value, decimals: decimals, to: &out)
      return String(decoding: out, as: UTF8.self)
    }
    XCTAssertEqual(text(0.05, 2), "0.05")
    XCTAssertEqual(text(12.5, 3), "12.5")
    XCTAssertEqual(text(-3.14159, 3), "-3.142")
    XCTAssertEqual(text(-0.0001, 3), "0")
    XCTAssertEqual(text(1000, 2), "1000")
    XCTAssertEqual(text(.nan, 2), "")
    XCTAssertEqual(text(1e20, 2), "1e+20")
  }
}
