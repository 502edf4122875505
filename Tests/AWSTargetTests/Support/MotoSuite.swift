import Testing

/// Every test that talks to a moto server lives in this suite (nested suites extend it), so
/// they run one at a time against the shared server and its reset between tests.
@Suite(.serialized) struct MotoSuite {}
