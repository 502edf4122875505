import AWSTarget
import ArgumentParser
import Foundation

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the AWS-style target: credentials, region and that the endpoint answers.",
        discussion: """
            Finds credentials and region the way AWS's tools do (AWS_ACCESS_KEY_ID…, AWS_PROFILE, \
            ~/.aws/credentials and ~/.aws/config, AWS_REGION, AWS_ENDPOINT_URL…) and calls STS \
            GetCallerIdentity. Exits with status 1 when a check fails, saying what is wrong.
            """
    )

    @OptionGroup var global: GlobalOptions

    @OptionGroup var connection: AWSConnectionOptions

    func run() async throws {
        let diagnosis = await AWSTargetAdapter(options: connection.adapterOptions).diagnose()
        switch global.output {
        case .json:
            try Output.json(diagnosis)
        case .text:
            for check in diagnosis.checks {
                print("\(check.ok ? "ok  " : "FAIL") \(check.name): \(check.detail)")
            }
            print(diagnosis.ok ? "\nThe AWS-style target is ready." : "\nFix the failing check above, then run `ferry doctor` again.")
        }
        if !diagnosis.ok { throw ExitCode.failure }
    }
}
