/// Every EC2 action Ferry calls. The client only calls actions listed here, and the
/// least-privilege policy is generated from this list, so the two cannot drift apart.
public enum EC2Action: String, CaseIterable, Sendable {
    // Networking
    case createVpc = "CreateVpc", describeVpcs = "DescribeVpcs", deleteVpc = "DeleteVpc"
    case createSubnet = "CreateSubnet", describeSubnets = "DescribeSubnets", deleteSubnet = "DeleteSubnet"
    case createInternetGateway = "CreateInternetGateway", attachInternetGateway = "AttachInternetGateway"
    case detachInternetGateway = "DetachInternetGateway", describeInternetGateways = "DescribeInternetGateways"
    case deleteInternetGateway = "DeleteInternetGateway"
    case createRouteTable = "CreateRouteTable", createRoute = "CreateRoute", associateRouteTable = "AssociateRouteTable"
    case describeRouteTables = "DescribeRouteTables", deleteRouteTable = "DeleteRouteTable"
    case disassociateRouteTable = "DisassociateRouteTable"
    case createSecurityGroup = "CreateSecurityGroup", authorizeSecurityGroupIngress = "AuthorizeSecurityGroupIngress"
    case authorizeSecurityGroupEgress = "AuthorizeSecurityGroupEgress", revokeSecurityGroupEgress = "RevokeSecurityGroupEgress"
    case describeSecurityGroups = "DescribeSecurityGroups", deleteSecurityGroup = "DeleteSecurityGroup"
    case createTags = "CreateTags"
    // Volumes, snapshots, images
    case describeSnapshots = "DescribeSnapshots", deleteSnapshot = "DeleteSnapshot", createSnapshot = "CreateSnapshot"
    case describeVolumes = "DescribeVolumes", deleteVolume = "DeleteVolume"
    case registerImage = "RegisterImage", describeImages = "DescribeImages", deregisterImage = "DeregisterImage"
    // Compute
    case runInstances = "RunInstances", describeInstances = "DescribeInstances", describeInstanceStatus = "DescribeInstanceStatus"
    case stopInstances = "StopInstances", startInstances = "StartInstances", terminateInstances = "TerminateInstances"
}
