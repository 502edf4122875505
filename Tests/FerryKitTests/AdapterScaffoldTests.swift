import Foundation
import Testing
import FerryCore
@testable import FerryKit

@Suite("Adapter scaffold")
struct AdapterScaffoldTests {
    /// A fresh directory path under the temporary directory that does not exist yet.
    private func freshDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ferry-scaffold-\(UUID().uuidString)")
    }

    @Test(arguments: ["", "Raw", "1raw", "-raw", "raw_disk", "raw disk", "raw.disk", "räw", "raw/disk"])
    func refusesBadNames(_ name: String) {
        #expect(throws: AdapterScaffoldError.invalidName(name)) {
            try AdapterScaffold(name: name, kind: .source, language: .python)
        }
    }

    @Test func acceptsGoodNames() throws {
        for name in ["raw", "raw-disk", "r2", "a-b-c9"] {
            #expect(try AdapterScaffold(name: name, kind: .source, language: .swift).name == name)
        }
    }

    @Test func refusesTargetScaffoldsPointingToTheProtocol() {
        let error = #expect(throws: AdapterScaffoldError.self) {
            try AdapterScaffold(name: "cloud", kind: .target, language: .python)
        }
        #expect(error == .unsupportedKind(.target))
        #expect(error?.description.contains("docs/plugin-protocol.md") == true)
    }

    @Test func refusesAnExistingNonEmptyDirectory() throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        let scaffold = try AdapterScaffold(name: "raw", kind: .source, language: .python)
        let error = #expect(throws: AdapterScaffoldError.self) { try scaffold.write(to: directory) }
        #expect(error == .directoryNotEmpty(directory.path, contents: ["notes.txt"]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["notes.txt"])
    }

    @Test func writesIntoAnExistingEmptyDirectory() throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let written = try AdapterScaffold(name: "raw", kind: .source, language: .python).write(to: directory)
        #expect(written.contains("ferry-adapter-raw"))
    }

    @Test func pythonScaffoldWritesAnExecutableNamedAfterTheAdapter() throws {
        let directory = freshDirectory().appendingPathComponent("nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let scaffold = try AdapterScaffold(name: "raw-disk", kind: .source, language: .python)
        let written = try scaffold.write(to: directory)
        #expect(written == ["ferry-adapter-raw-disk", "ferry_framing.py", "README.md"])
        #expect(scaffold.executablePath == "ferry-adapter-raw-disk")
        #expect(scaffold.buildCommand == nil)

        let executable = directory.appendingPathComponent("ferry-adapter-raw-disk")
        #expect(FileManager.default.isExecutableFile(atPath: executable.path))
        let permissions = try FileManager.default.attributesOfItem(atPath: executable.path)[.posixPermissions] as? Int
        #expect(permissions == 0o755)
        let text = try String(contentsOf: executable, encoding: .utf8)
        #expect(text.hasPrefix("#!/usr/bin/env python3\n"))
        #expect(text.contains(#"NAME = "raw-disk""#))
        #expect(!text.contains("__NAME__"))
        #expect(text.contains("# TODO:"))
        for method in ["describe", "source.discover", "source.openDisk", "source.allocatedRanges", "source.read",
                       "source.closeDisk", "shutdown"] {
            #expect(text.contains(#""\#(method)""#), "missing \(method)")
        }
        let readme = try String(contentsOf: directory.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("FERRY_PLUGIN_PATH=$PWD"))
        #expect(readme.contains("ferry adapter test raw-disk --option path=disk.img"))
        #expect(readme.contains("docs/plugin-protocol.md"))
    }

    @Test func swiftScaffoldWritesAPackageAndMain() throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let scaffold = try AdapterScaffold(name: "raw-disk", kind: .source, language: .swift)
        let written = try scaffold.write(to: directory)
        #expect(written == ["Package.swift", "Sources/ferry-adapter-raw-disk/main.swift", "README.md", ".gitignore"])
        #expect(scaffold.executablePath == ".build/release/ferry-adapter-raw-disk")
        #expect(scaffold.buildCommand == "swift build -c release")

        let package = try String(contentsOf: directory.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(package.hasPrefix("// swift-tools-version:5.9\n"))
        #expect(package.contains(#".executableTarget(name: "ferry-adapter-raw-disk""#))
        #expect(!package.contains("dependencies:"))
        let main = try String(
            contentsOf: directory.appendingPathComponent("Sources/ferry-adapter-raw-disk/main.swift"), encoding: .utf8)
        #expect(main.contains(#"let adapterName = "raw-disk""#))
        #expect(!main.contains("__NAME__"))
        #expect(main.contains("// TODO:"))
        #expect(main.contains("pread("))
        // stdout is for protocol messages only: no print outside comments.
        let code = main.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
        #expect(!code.contains { $0.contains("print(") })
        let gitignore = try String(contentsOf: directory.appendingPathComponent(".gitignore"), encoding: .utf8)
        #expect(gitignore.contains(".build/"))
    }
}
