/// The one block size Ferry moves disks in: 512 KiB, the EBS block. Replication, the staging
/// store (a chunk is one block, named by its `ChunkHash`) and EBS imports all use it, so that a
/// staged chunk goes to a target as it is, without being cut or joined.
public enum BlockSize {
    public static let bytes = 512 * 1024
}
