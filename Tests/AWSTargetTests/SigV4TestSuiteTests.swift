import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

/// Cases of the AWS Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30):
/// each request with its expected canonical request, string to sign and authorization.
@Suite struct SigV4TestSuiteTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
    static let date = SigV4Date(Date(timeIntervalSince1970: 1_440_938_160))  // 20150830T123600Z
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let baseHeaders = ["Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"]

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var request: SignableRequest
        var canonicalRequest: String
        var stringToSign: String
        var authorization: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla",
            request: SignableRequest(method: "GET", path: "/", headers: baseHeaders),
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        Vector(
            name: "get-vanilla-query-order-key-case",
            request: SignableRequest(method: "GET", path: "/", query: [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")], headers: baseHeaders),
            canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
        Vector(
            name: "get-vanilla-utf8-query",
            request: SignableRequest(method: "GET", path: "/", query: [(name: "\u{1234}", value: "bar")], headers: baseHeaders),
            canonicalRequest: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\neb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
        ),
        Vector(
            name: "get-header-value-trim",
            request: SignableRequest(method: "GET", path: "/", headers: baseHeaders.merging(["My-Header1": " value1", "My-Header2": " \"a   b   c\""]) { $1 }),
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\na726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        ),
        Vector(
            name: "post-vanilla-query",
            request: SignableRequest(method: "POST", path: "/", query: [(name: "Param1", value: "value1")], headers: baseHeaders),
            canonicalRequest: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"
        ),
        Vector(
            name: "post-header-key-sort",
            request: SignableRequest(method: "POST", path: "/", headers: baseHeaders.merging(["My-Header1": "value1"]) { $1 }),
            canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"
        ),
    ]

    @Test("each published vector: canonical request, string to sign and authorization", arguments: vectors)
    func publishedVector(_ vector: Vector) {
        let signature = Self.signer.signature(for: vector.request, date: Self.date, payloadHash: SigV4Hash.sha256(vector.request.body))
        #expect(signature.canonicalRequest == vector.canonicalRequest)
        #expect(signature.stringToSign == vector.stringToSign)
        #expect(signature.authorization == vector.authorization)
    }

    /// The suite's string to sign for this case was computed from another request (its hash
    /// is not the hash of the published canonical request), so only the canonical request,
    /// which holds the body's hash, is compared.
    @Test("a form-encoded body is hashed into the canonical request (post-x-www-form-urlencoded-parameters)")
    func formBody() {
        let request = SignableRequest(
            method: "POST", path: "/",
            headers: Self.baseHeaders.merging(["Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Content-Length": "13"]) { $1 },
            body: Array("Param1=value1".utf8)
        )
        let signature = Self.signer.signature(for: request, date: Self.date, payloadHash: SigV4Hash.sha256(request.body))
        #expect(signature.canonicalRequest == "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
    }

    @Test("a session token is signed as x-amz-security-token (post-sts-header-before)")
    func sessionTokenIsSigned() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var credentials = Self.credentials
        credentials.sessionToken = Secret(token)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        var request = SignableRequest(method: "POST", path: "/", headers: ["Host": "example.amazonaws.com"])
        let signature = signer.sign(&request, date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(request.headers["x-amz-security-token"] == token)
        #expect(signature.stringToSign.hasSuffix("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"))
        #expect(signature.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
    }

    @Test("the secret never appears in a signature's parts or in the credentials' description")
    func secretStaysSecret() {
        var request = SignableRequest(method: "GET", path: "/", headers: ["Host": "example.amazonaws.com"])
        let signature = Self.signer.sign(&request)
        let everything = [signature.canonicalRequest, signature.stringToSign, signature.authorization, "\(Self.credentials)", String(reflecting: Self.credentials)].joined()
        #expect(!everything.contains("wJalrXUtnFEMI"))
    }
}
