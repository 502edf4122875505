import FerryCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Talks to a WordPress site as its administrator would, without a browser: the installation
/// form (`wp-admin/install.php`, step 2), and publishing through WordPress's own remote API,
/// XML-RPC `metaWeblog.newPost`. XML-RPC rather than the REST API because WordPress gives
/// application passwords (the REST API's way in for a script) only over HTTPS, and the
/// sandbox's sites are plain HTTP on 127.0.0.1. The XML-RPC calls are written by hand: two
/// calls, and no package here speaks XML-RPC.
struct WordPressClient: Sendable {
    let base: URL

    enum Installation: Equatable {
        /// `install.php` offers its form: WordPress runs and waits for its administrator.
        case pending
        case installed
        /// No WordPress answers there (the busybox guest's static blog).
        case notWordPress
    }

    enum Failure: Error, CustomStringConvertible {
        case http(String, status: Int, body: String)
        case fault(String)
        var description: String {
            switch self {
            case .http(let what, let status, let body): "\(what): HTTP \(status) \(body.prefix(300))"
            case .fault(let text): "WordPress refused: \(text)"
            }
        }
    }

    func installation() async throws -> Installation {
        let (status, body) = try await fetch(URLRequest(url: url("wp-admin/install.php"), timeoutInterval: 60))
        if status == 404 { return .notWordPress }
        if body.contains("weblog_title") { return .pending }
        if body.contains("wp-login.php") || body.contains("Already Installed") { return .installed }
        return .notWordPress
    }

    /// Submits the installation form: the site's title and its administrator.
    func install(title: String, user: String, password: Secret, email: String) async throws {
        var request = URLRequest(url: url("wp-admin/install.php?step=2"), timeoutInterval: 300)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let fields = [
            ("weblog_title", title), ("user_name", user), ("admin_password", password.reveal()), ("admin_password2", password.reveal()),
            ("admin_email", email), ("blog_public", "0"), ("language", ""), ("Submit", "Install WordPress"),
        ]
        request.httpBody = Data(fields.map { "\($0.0)=\(Self.formEncoded($0.1))" }.joined(separator: "&").utf8)
        let (status, body) = try await fetch(request)
        guard status == 200, body.contains("wp-login.php") else {
            throw Failure.http("installing WordPress", status: status, body: Self.visibleText(body))
        }
    }

    /// Publishes a post; returns its id.
    func newPost(user: String, password: Secret, title: String, body: String) async throws -> String {
        let call = """
        <?xml version="1.0"?>
        <methodCall><methodName>metaWeblog.newPost</methodName><params>
        <param><value><string>1</string></value></param>
        <param><value><string>\(Self.xml(user))</string></value></param>
        <param><value><string>\(Self.xml(password.reveal()))</string></value></param>
        <param><value><struct>
        <member><name>title</name><value><string>\(Self.xml(title))</string></value></member>
        <member><name>description</name><value><string>\(Self.xml(body))</string></value></member>
        </struct></value></param>
        <param><value><boolean>1</boolean></value></param>
        </params></methodCall>
        """
        var request = URLRequest(url: url("xmlrpc.php"), timeoutInterval: 120)
        request.httpMethod = "POST"
        request.setValue("text/xml", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(call.utf8)
        let (status, answer) = try await fetch(request)
        guard status == 200 else { throw Failure.http("calling metaWeblog.newPost", status: status, body: answer) }
        let reply = XMLRPCReply.parse(answer)
        if let fault = reply.fault { throw Failure.fault(fault) }
        guard let id = reply.firstValue, !id.isEmpty else { throw Failure.http("metaWeblog.newPost answered no post id", status: status, body: answer) }
        return id
    }

    private func url(_ relative: String) -> URL {
        URL(string: relative, relativeTo: base.absoluteString.hasSuffix("/") ? base : base.appendingPathComponent(""))!.absoluteURL
    }

    private func fetch(_ request: URLRequest) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A page's words without its markup, for an error message.
    static func visibleText(_ html: String) -> String {
        html.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// An XML-RPC answer: the first value of its params, or its fault's string.
struct XMLRPCReply {
    var firstValue: String?
    var fault: String?

    static func parse(_ text: String) -> XMLRPCReply {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse(), delegate.sawResponse else { return XMLRPCReply(firstValue: nil, fault: "an answer that is not XML-RPC: \(text.prefix(200))") }
        if delegate.inFault || delegate.sawFault {
            return XMLRPCReply(firstValue: nil, fault: delegate.faultString ?? "a fault without a faultString")
        }
        return XMLRPCReply(firstValue: delegate.values.first?.trimmingCharacters(in: .whitespacesAndNewlines), fault: nil)
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var values: [String] = []
        var sawResponse = false
        var sawFault = false
        var inFault = false
        var faultString: String?
        private var text = ""
        private var lastName = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "methodResponse" { sawResponse = true }
            if name == "fault" { sawFault = true; inFault = true }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "name": lastName = text
            case "string", "int", "i4", "boolean":
                if inFault, lastName == "faultString" { faultString = text } else if !inFault { values.append(text) }
            case "value":
                // A value without a type element is a string.
                if !inFault, values.isEmpty, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { values.append(text) }
                if inFault, lastName == "faultString", faultString == nil, !text.isEmpty { faultString = text }
            case "fault": inFault = false
            default: break
            }
            text = ""
        }
    }
}
