// swift-tools-version:5.9
// A Ferry source adapter: the executable ferry-adapter-__NAME__ (docs/plugin-protocol.md in
// the Ferry repository). No dependencies, so it builds offline; add your own as needed.
import PackageDescription

let package = Package(
    name: "ferry-adapter-__NAME__",
    targets: [
        .executableTarget(name: "ferry-adapter-__NAME__", path: "Sources/ferry-adapter-__NAME__"),
    ]
)
