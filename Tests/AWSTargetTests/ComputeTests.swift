import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

extension MotoSuite {
    /// Images and instances through Ferry's adapter, against moto.
    @Suite struct ComputeTests {
        static func fresh() async throws -> AWSTargetAdapter {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            return moto.adapter()
        }

        /// An image registered from a small imported disk.
        static func registerTestImage(_ aws: AWSTargetAdapter, name: String = "web-1 test") async throws -> MachineImage {
            let root = try await aws.importVolume(VolumeImportRequest(name: "root", source: TestDisk.make(blocks: 2, data: [0])), progress: nil)
            return try await aws.registerImage(name: name, rootVolume: root, additionalVolumes: [], bootMode: .uefi, tags: ["ferry:server": "s-1"])
        }

        static func network(_ aws: AWSTargetAdapter) async throws -> (Subnet, SecurityGroup) {
            let vpc = try await aws.createVPC(cidrBlock: "10.60.0.0/16", tags: [:])
            let subnet = try await aws.createSubnet(vpcID: vpc.id, cidrBlock: "10.60.1.0/24", availabilityZone: nil, tags: [:])
            let group = try await aws.createSecurityGroup(vpcID: vpc.id, name: "web", description: "web", tags: [:])
            return (subnet, group)
        }

        @Test("an image registered from imported snapshots is described, then deregistered")
        func imageLifecycle() async throws {
            let aws = try await Self.fresh()
            let root = try await aws.importVolume(VolumeImportRequest(name: "root", source: TestDisk.make(blocks: 2, data: [0])), progress: nil)
            let data = try await aws.importVolume(VolumeImportRequest(name: "data", source: TestDisk.make(blocks: 2, data: [1])), progress: nil)
            let image = try await aws.registerImage(name: "web-1 cutover", rootVolume: root, additionalVolumes: [data], bootMode: .uefi, tags: [:])
            #expect(image.id.hasPrefix("ami-"))
            #expect(image.volumeIDs == [root.id, data.id])
            #expect(try await aws.describeImages().map(\.id) == [image.id])
            #expect(try await aws.describeImages().first?.name == "web-1 cutover")
            try await aws.deregisterImage(id: image.id)
            #expect(try await aws.describeImages().isEmpty)
        }

        @Test("an instance launches from launch settings: subnet, security groups, fixed IP, tags, name")
        func launchWithSettings() async throws {
            let aws = try await Self.fresh()
            let (subnet, group) = try await Self.network(aws)
            let image = try await Self.registerTestImage(aws)
            let settings = LaunchSettings(instanceType: "t3.small", subnetID: subnet.id, securityGroupIDs: [group.id], privateIPPolicy: .fixed("10.60.1.25"), tags: ["ferry:server": "s-1"])
            let instance = try await aws.launchInstance(imageID: image.id, settings: settings, userData: "#!/bin/sh\necho hi\n", name: "web-1 test")
            #expect(instance.state == .running)
            #expect(instance.imageID == image.id)
            #expect(instance.instanceType == "t3.small")
            #expect(instance.subnetID == subnet.id)
            #expect(instance.privateIPAddress == "10.60.1.25")
            #expect(instance.securityGroupIDs == [group.id])
            #expect(instance.tags == ["ferry:server": "s-1", "Name": "web-1 test"])
            #expect(instance.launchedAt != nil)
            // No public address (the subnet does not map one): nothing outside the VPC reaches it.
            let unreachable = await #expect(throws: NoReachableEndpoint.self) { try await aws.endpoint(instanceID: instance.id, port: 80) }
            #expect(unreachable?.reason.contains("10.60.1.25") == true)
        }

        @Test("stop, start and terminate each wait for the state they promise")
        func stateChanges() async throws {
            let aws = try await Self.fresh()
            let image = try await Self.registerTestImage(aws)
            let (subnet, _) = try await Self.network(aws)
            let instance = try await aws.launchInstance(imageID: image.id, settings: LaunchSettings(instanceType: "t3.micro", subnetID: subnet.id), userData: nil, name: nil)
            #expect(try await aws.stopInstance(id: instance.id).state == .stopped)
            #expect(try await aws.startInstance(id: instance.id).state == .running)
            #expect(try await aws.terminateInstance(id: instance.id).state == .terminated)
            #expect(try await aws.describeInstances().map(\.id) == [instance.id])
            #expect(try await aws.describeInstance(id: instance.id).state == .terminated)
        }

        @Test("first boot is reported from EC2's status checks")
        func firstBoot() async throws {
            let aws = try await Self.fresh()
            let image = try await Self.registerTestImage(aws)
            let (subnet, _) = try await Self.network(aws)
            let instance = try await aws.launchInstance(imageID: image.id, settings: LaunchSettings(subnetID: subnet.id), userData: nil, name: nil)
            #expect(try await aws.firstBootStatus(id: instance.id) == .succeeded)
        }

        @Test("an unknown instance is a not-found error with EC2's code")
        func unknownInstance() async throws {
            let aws = try await Self.fresh()
            let error = await #expect(throws: AWSError.self) { _ = try await aws.describeInstance(id: "i-0123456789abcdef0") }
            #expect(error?.kind == .notFound)
            #expect(error?.code == "InvalidInstanceID.NotFound")
        }

        @Test("copyFromSource must be resolved before launch: the adapter cannot know the source's address")
        func copyFromSourceRefused() async throws {
            let aws = try await Self.fresh()
            await #expect(throws: AWSTargetError.self) {
                _ = try await aws.launchInstance(imageID: "ami-1", settings: LaunchSettings(privateIPPolicy: .copyFromSource), userData: nil, name: nil)
            }
        }
    }
}
