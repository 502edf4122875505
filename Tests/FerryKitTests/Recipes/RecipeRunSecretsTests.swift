import FerryCore
@testable import FerryKit
import Foundation
import Testing

@Suite struct RecipeRunSecretsTests {
    @Test func aSecretIsMadeOnceKeptPrivateAndNeverInTheDatabase() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (workspace, _) = try Workspace.create(at: root, ferryVersion: FerryVersion.current)
        let secrets = RecipeRunSecrets(runDirectory: root.appendingPathComponent("runs/run-1"))
        let first = try secrets.secret(named: "wordpress-admin-password")
        #expect(first.reveal().count == 24)
        #expect(try secrets.secret(named: "wordpress-admin-password") == first)
        #expect(try RecipeRunSecrets(runDirectory: root.appendingPathComponent("runs/run-2")).secret(named: "wordpress-admin-password") != first)
        #expect("\(first)" == "<redacted>")

        let file = secrets.directory.appendingPathComponent("wordpress-admin-password").path
        let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber).intValue
        #expect(mode & 0o077 == 0)
        let folderMode = try #require(FileManager.default.attributesOfItem(atPath: secrets.directory.path)[.posixPermissions] as? NSNumber).intValue
        #expect(folderMode & 0o077 == 0)
        // No temporary left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: secrets.directory.path) == ["wordpress-admin-password"])
        // Nothing of it in the workspace's database.
        let database = try Data(contentsOf: workspace.root.appendingPathComponent("ferry.sqlite"))
        #expect(database.range(of: Data(first.reveal().utf8)) == nil)

        #expect(throws: RecipeInputError.self) { try secrets.secret(named: "../escape") }
        secrets.removeAll()
        #expect(!FileManager.default.fileExists(atPath: secrets.directory.path))
    }

    @Test func anXMLRPCAnswerGivesItsValueOrItsFault() {
        let ok = XMLRPCReply.parse("<?xml version=\"1.0\"?><methodResponse><params><param><value><string>42</string></value></param></params></methodResponse>")
        #expect(ok.firstValue == "42" && ok.fault == nil)
        let untyped = XMLRPCReply.parse("<methodResponse><params><param><value>7</value></param></params></methodResponse>")
        #expect(untyped.firstValue == "7")
        let fault = XMLRPCReply.parse("""
        <methodResponse><fault><value><struct>
        <member><name>faultCode</name><value><int>403</int></value></member>
        <member><name>faultString</name><value><string>Incorrect username or password.</string></value></member>
        </struct></value></fault></methodResponse>
        """)
        #expect(fault.fault == "Incorrect username or password." && fault.firstValue == nil)
        #expect(XMLRPCReply.parse("<html>not xml").fault != nil)
    }
}
