import Crypto
import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit
import FerryTestSupport

/// Answers shaped as the AWS API references show them, for what moto does differently
/// (moto keeps no block device mappings on images, sends EBS block indexes as strings
/// without paging, and answers some errors with HTML).
@Suite struct RecordedResponsesTests {
    static func response(_ status: Int, _ body: String, headers: [String: String] = [:]) -> AWSHTTPResponse {
        AWSHTTPResponse(status: status, headers: headers, body: Data(body.utf8))
    }

    static func request(_ service: AWSService, _ operation: String) -> AWSHTTPRequest {
        AWSHTTPRequest(service: service, operation: operation, method: "POST")
    }

    @Test("DescribeImages: the snapshots of the block device mappings and the boot mode are read")
    func describeImages() throws {
        let xml = """
            <DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
               <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
               <imagesSet>
                  <item>
                     <imageId>ami-1a2b3c4d</imageId>
                     <imageLocation>123456789012/web-1 cutover</imageLocation>
                     <imageState>available</imageState>
                     <imageOwnerId>123456789012</imageOwnerId>
                     <isPublic>false</isPublic>
                     <architecture>x86_64</architecture>
                     <imageType>machine</imageType>
                     <name>web-1 cutover</name>
                     <description>Imported by Ferry</description>
                     <rootDeviceType>ebs</rootDeviceType>
                     <rootDeviceName>/dev/xvda</rootDeviceName>
                     <blockDeviceMapping>
                        <item>
                           <deviceName>/dev/xvda</deviceName>
                           <ebs>
                              <snapshotId>snap-1a2b3c4d</snapshotId>
                              <volumeSize>8</volumeSize>
                              <deleteOnTermination>true</deleteOnTermination>
                              <volumeType>gp3</volumeType>
                           </ebs>
                        </item>
                        <item>
                           <deviceName>/dev/xvdb</deviceName>
                           <ebs>
                              <snapshotId>snap-5e6f7a8b</snapshotId>
                              <volumeSize>20</volumeSize>
                              <deleteOnTermination>true</deleteOnTermination>
                              <volumeType>gp3</volumeType>
                           </ebs>
                        </item>
                     </blockDeviceMapping>
                     <virtualizationType>hvm</virtualizationType>
                     <tagSet>
                        <item><key>ferry:server</key><value>s-1</value></item>
                     </tagSet>
                     <hypervisor>xen</hypervisor>
                     <enaSupport>true</enaSupport>
                     <bootMode>uefi</bootMode>
                  </item>
               </imagesSet>
            </DescribeImagesResponse>
            """
        let tree = try #require(XMLTree.parse(Data(xml.utf8)))
        let images = tree.items("imagesSet").map(EC2Mapping.image)
        #expect(images == [MachineImage(id: "ami-1a2b3c4d", name: "web-1 cutover", bootMode: .uefi, volumeIDs: ["snap-1a2b3c4d", "snap-5e6f7a8b"], tags: ["ferry:server": "s-1"])])
    }

    @Test("ListSnapshotBlocks: numeric indexes, the 512 KiB block size and the next page's token")
    func listSnapshotBlocks() throws {
        let json = """
            {"BlockSize":524288,"Blocks":[{"BlockIndex":0,"BlockToken":"AAUBARGCaufCqBRZC8tEkPYGGkSv3vqvOjJ2xKDi3ljDFiytUxBLXYgTmkid"},{"BlockIndex":1,"BlockToken":"AAABAV3/PNhXOynVdMYHUpPsetaSvjLB1dtIGfbJv5OJ0sX855EzGTWos4a4"}],\
            "ExpiryTime":1.59299589e9,"NextToken":"AAADARqElNng/sV98CYk/bJDCXeLJmLJHnNSkHvLzVaO0zsPH/QM3Bi3zF//O6Mdi/BbJarBnp8h","VolumeSize":1}
            """
        let page = try EBSClient.parseBlockPage(Data(json.utf8))
        #expect(page.listing.blocks.map(\.index) == [0, 1])
        #expect(page.listing.blockSize == 524_288)
        #expect(page.listing.volumeSizeGiB == 1)
        #expect(page.nextToken?.hasPrefix("AAADARq") == true)
    }

    @Test("an EC2 error: code, message and request id; DependencyViolation is 'still in use'")
    func ec2DependencyViolation() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Response><Errors><Error><Code>DependencyViolation</Code><Message>The subnet 'subnet-0a1b2c3d4e5f67890' has dependencies and cannot be deleted.</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>
            """
        let error = QueryErrorDecoder.decode(Self.response(400, xml), Self.request(.ec2, "DeleteSubnet"))
        #expect(error.code == "DependencyViolation")
        #expect(error.kind == .dependencyViolation)
        #expect(error.requestID == "ea966190-f9aa-478e-9ede-example")
        #expect(error.description.contains("subnet-0a1b2c3d4e5f67890"))
    }

    @Test("EC2 AuthFailure reads as 'authentication failed', UnauthorizedOperation as 'access denied'")
    func ec2AuthErrors() {
        let auth = QueryErrorDecoder.decode(Self.response(401, "<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>"), Self.request(.ec2, "DescribeVpcs"))
        #expect(auth.kind == .authenticationFailed)
        #expect(auth.description.contains("authentication failed"))
        let denied = QueryErrorDecoder.decode(Self.response(403, "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>"), Self.request(.ec2, "RunInstances"))
        #expect(denied.kind == .accessDenied)
        #expect(denied.description.contains("access denied"))
    }

    @Test("an IAM or STS error (ErrorResponse) is decoded the same way")
    func iamError() {
        let xml = """
            <ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
              <Error>
                <Type>Sender</Type>
                <Code>AccessDenied</Code>
                <Message>User: arn:aws:iam::123456789012:user/ferry is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/x</Message>
              </Error>
              <RequestId>4c6a3bbd-7a42-11e8-a5b1-example</RequestId>
            </ErrorResponse>
            """
        let error = QueryErrorDecoder.decode(Self.response(403, xml), Self.request(.iam, "CreateUser"))
        #expect(error.kind == .accessDenied)
        #expect(error.requestID == "4c6a3bbd-7a42-11e8-a5b1-example")
        let sts = QueryErrorDecoder.decode(Self.response(403, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>b8f3a1c2-example</RequestId></ErrorResponse>"), Self.request(.sts, "GetCallerIdentity"))
        #expect(sts.kind == .authenticationFailed)
    }

    @Test("an EBS error: the code from x-amzn-ErrorType, the message and reason from the JSON body")
    func ebsError() {
        let error = EBSClient.decodeError(
            Self.response(404, #"{"Message":"The snapshot 'snap-0123456789abcdef0' does not exist.","Reason":"SNAPSHOT_NOT_FOUND"}"#,
                          headers: ["x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.zeppelindataservice/", "x-amzn-requestid": "a1b2c3d4-example"]),
            Self.request(.ebs, "GetSnapshotBlock")
        )
        #expect(error.code == "ResourceNotFoundException")
        #expect(error.kind == .notFound)
        #expect(error.message.contains("SNAPSHOT_NOT_FOUND"))
        #expect(error.requestID == "a1b2c3d4-example")
    }

    @Test("throttling and 5xx answers are retried; a client error is not")
    func retryable() {
        let throttled = QueryErrorDecoder.decode(Self.response(503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>"), Self.request(.ec2, "DescribeInstances"))
        #expect(throttled.kind == .throttled && throttled.isRetryable)
        let ebsThrottled = EBSClient.decodeError(Self.response(429, #"{"Message":"Rate exceeded","Reason":"ACCOUNT_THROTTLED"}"#, headers: ["x-amzn-errortype": "RequestThrottledException"]), Self.request(.ebs, "PutSnapshotBlock"))
        #expect(ebsThrottled.isRetryable)
        let html = EBSClient.decodeError(Self.response(500, "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>"), Self.request(.ebs, "GetSnapshotBlock"))
        #expect(html.kind == .serverError && html.isRetryable)
        #expect(html.message.contains("Internal Server Error"))
        let invalid = QueryErrorDecoder.decode(Self.response(400, "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad</Message></Error></Errors><RequestID>x</RequestID></Response>"), Self.request(.ec2, "CreateVpc"))
        #expect(!invalid.isRetryable)
    }

    @Test("backoff grows exponentially, stays under its cap, and is jittered")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 8, baseDelay: 0.1, maxDelay: 2)
        var generator = SplitMix64(seed: 42)
        let delays = (1...8).map { policy.delay(beforeRetry: $0, using: &generator) }
        for (attempt, delay) in zip(1..., delays) {
            #expect(delay >= 0 && delay <= min(2, 0.1 * Double(1 << attempt)))
        }
        #expect(Set(delays).count == delays.count)
    }

    @Test("an EBS checksum is the base64 SHA-256 of the block; the aggregate hashes the digests in block order")
    func checksums() {
        let first = SHA256.hash(data: [UInt8](repeating: 0xAB, count: 512 * 1024))
        let second = SHA256.hash(data: [UInt8](repeating: 0x01, count: 512 * 1024))
        #expect(Data(first).base64EncodedString() == "uthdne/3a6/hwzUxh+9U2QG/D++8j9dxB3n4SJrMpLw=")
        // Expected values computed independently (Python's hashlib).
        #expect(SnapshotImporter.aggregateChecksum([1: second, 0: first]) == "u9MIhTRCFCghpKwP7BGGHKaxVPh0FkgRBVJ6sUEaPyo=")
    }
}
