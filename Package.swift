// swift-tools-version:6.0
import PackageDescription

// On Apple platforms BLAS comes from Accelerate; elsewhere from OpenBLAS through the CBLAS shim.
let blasDependency: [Target.Dependency] = [.target(name: "CBLAS", condition: .when(platforms: [.linux, .windows, .android]))]

let package = Package(
    name: "Synapse",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Synapse", targets: ["Synapse"]),
        .executable(name: "synapse", targets: ["SynapseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        // The few kernels that need an instruction set chosen per function (AVX-512 VNNI int8 products).
        .target(name: "CSynapseKernels"),
        .target(name: "Synapse", dependencies: blasDependency + ["CZlib", "CPNG", "CSynapseKernels"]),
        // The workloads behind `synapse bench`: they reach the library only through its public API.
        .target(name: "SynapseBenchmarks", dependencies: ["Synapse"] + blasDependency),
        .executableTarget(name: "SynapseCLI", dependencies: [
            "Synapse", "SynapseBenchmarks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SynapseTests", dependencies: ["Synapse"], resources: [.copy("Fixtures")]),
    ]
)

// The libFuzzer harnesses exist only in a fuzzing build (scripts/fuzz.sh sets SYNAPSE_FUZZ=1 and builds with
// -sanitize=fuzzer): libFuzzer supplies their `main`, so an ordinary build could not link them.
if Context.environment["SYNAPSE_FUZZ"] == "1" {
    package.products.append(.executable(name: "synapse-fuzz", targets: ["SynapseFuzz"]))
    package.targets.append(.executableTarget(name: "SynapseFuzz", dependencies: ["Synapse"], path: "Fuzz",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
