using Tallystick.Server.TransparencyLog;
using Tallystick.Tiles;

namespace Tallystick.Server.Tests;

// Goal: the read API's rule for which tiles a checkpoint of size s makes public is exactly tlog-tiles' (a full tile
// once its level holds all 256 items, a partial .p/W once it holds the first W), with no overflow at huge indexes
// or levels. Method: table of tiles against sizes 300 and long.MaxValue.
public sealed class TileCoverageTests
{
    [Theory]
    [InlineData(300L, false, 0, 0L, 256, true)]
    [InlineData(300L, false, 0, 1L, 256, false)] // still partial
    [InlineData(300L, false, 0, 1L, 44, true)]
    [InlineData(300L, false, 0, 1L, 1, true)] // an earlier checkpoint's partial tile
    [InlineData(300L, false, 0, 1L, 45, false)]
    [InlineData(300L, false, 1, 0L, 1, true)]
    [InlineData(300L, false, 1, 0L, 2, false)]
    [InlineData(300L, false, 1, 0L, 256, false)]
    [InlineData(300L, false, 2, 0L, 1, false)]
    [InlineData(300L, false, 63, 0L, 1, false)]
    [InlineData(300L, true, 0, 0L, 256, true)]
    [InlineData(300L, true, 0, 1L, 44, true)]
    [InlineData(300L, true, 0, 2L, 1, false)]
    [InlineData(300L, false, 0, long.MaxValue, 256, false)] // 256N would overflow
    [InlineData(0L, false, 0, 0L, 1, false)]
    [InlineData(long.MaxValue, false, 7, 0L, 127, true)] // level 7 holds 2^63 >> 56 = 127 hashes
    [InlineData(long.MaxValue, false, 7, 0L, 128, false)]
    [InlineData(long.MaxValue, false, 8, 0L, 1, false)]
    public void Covers_FollowsTheSpec(long size, bool entries, int level, long index, int width, bool expected)
    {
        var tile = entries ? TilePath.EntryBundle(index, width) : TilePath.HashTile(level, index, width);
        Assert.Equal(expected, LogReader.Covers(size, tile));
    }
}
