namespace Tallystick.Merkle;

/// <summary>
/// Identifies a perfect (fully populated) subtree of the log's Merkle tree: the node at height
/// <paramref name="Level"/> (0 = leaf) that covers leaves <c>[Index·2^Level, (Index+1)·2^Level)</c>.
/// This is the addressing used by tile-based stores, so a store can look up or compute the node's hash
/// from leaves it already holds.
/// </summary>
/// <param name="Level">Height above the leaves; 0 for a leaf hash. Valid values are 0..62.</param>
/// <param name="Index">Position of the node among the nodes of its level, counting from 0 on the left.</param>
public readonly record struct NodeId(int Level, long Index)
{
    internal NodeId Parent => new(Level + 1, Index >> 1);

    internal NodeId Sibling => new(Level, Index ^ 1);
}
