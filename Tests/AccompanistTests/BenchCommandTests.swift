import Foundation
import XCTest

/// `accompanist bench` on the tiny fixture model: every section prints (numbers are not checked;
/// docs/bench.md has them).
final class BenchCommandTests: XCTestCase {
    static let repository = CLIPaths.repository
    var tinyModel: String { Self.repository.appendingPathComponent("Tests/Fixtures/model/tiny.safetensors").path }
    var twinkle: String { Self.repository.appendingPathComponent("Examples/twinkle.mid").path }

    func testBenchPrintsEverySection() throws {
        let r = try runAccompanist(["bench", "--model", tinyModel, "--melody", twinkle, "--no-jax", "--model-steps", "50",
                                    "--precision", "fp16", "--hours", "0.01"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for needle in ["engine work per grid step, wall:", "engine work per grid step, thread CPU:", "tokens per step:",
                       "render speed:", "decoder per token:", "encoder column:", "floor:", "memory floor =",
                       "FMA rate", "performance, fp16", "RSS (VmRSS):", "per step, last 10 min:"] {
            XCTAssertTrue(r.stdout.contains(needle), "missing \"\(needle)\" in:\n\(r.stdout)")
        }
        XCTAssertFalse(r.stdout.contains("[fp32"), "--precision fp16 measures fp16 only")
    }

    func testBenchRejectsBadArguments() throws {
        let r = try runAccompanist(["bench", "--model", tinyModel, "--hours", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--hours"), r.stderr)
        let m = try runAccompanist(["bench", "--model", "/nonexistent.safetensors", "--no-jax"])
        XCTAssertEqual(m.status, 66, m.stderr)
    }
}
