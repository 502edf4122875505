import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

// The XML mapping of EC2, IAM and STS answers is written by hand over XMLParser.

/// An element of an XML answer: its name (without namespace prefix), its text and its
/// child elements. Small enough to build for every answer Ferry reads.
struct XMLTree: Sendable {
    var name: String
    var text: String
    var children: [XMLTree]

    /// Parses `data`; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> XMLTree? {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    /// The first child named `name`.
    func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// The children named `name`.
    func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// The element at `path` below this one ("vpc/vpcId").
    func at(_ path: String) -> XMLTree? {
        var node: XMLTree? = self
        for part in path.split(separator: "/") { node = node?.child(String(part)) }
        return node
    }

    /// The text at `path`, trimmed; nil when absent or empty.
    func string(_ path: String) -> String? {
        guard let text = at(path)?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// The `<item>`s of the list at `path` (EC2's shape of every list).
    func items(_ path: String) -> [XMLTree] { at(path)?.children("item") ?? [] }

    /// The `<member>`s of the list at `path` (IAM's and STS's shape of every list).
    func members(_ path: String) -> [XMLTree] { at(path)?.children("member") ?? [] }

    /// The first element named `name` anywhere below, depth first.
    func first(named name: String) -> XMLTree? {
        for child in children {
            if child.name == name { return child }
            if let found = child.first(named: name) { return found }
        }
        return nil
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLTree(name: local, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            guard let done = stack.popLast() else { return }
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }
    }
}
