import ArgumentParser

/// Where and as whom an AWS-style cloud is reached, for the commands that talk to one.
struct AWSConnectionOptions: ParsableArguments {
    @Option(help: "The profile to use (default: AWS_PROFILE, else 'default').")
    var profile: String?

    @Option(help: "The region to use (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's).")
    var region: String?

    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("An endpoint for every service (default: AWS_ENDPOINT_URL).", valueName: "url"))
    var endpointURL: String?

    /// The aws adapter's options these stand for; unset ones are left to its own chain.
    var adapterOptions: [String: String] {
        var options: [String: String] = [:]
        options["profile"] = profile
        options["region"] = region
        options["endpoint-url"] = endpointURL
        return options
    }
}
