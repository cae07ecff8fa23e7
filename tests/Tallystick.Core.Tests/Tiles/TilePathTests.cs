using Tallystick.Tiles;

namespace Tallystick.Core.Tests.Tiles;

// Goal: tile paths are encoded exactly as C2SP tlog-tiles specifies, and only the canonical form parses, so every
// resource has one URL. Method: the spec's own example (1234067 → x001/x234/067), boundary values, a format/parse
// round trip, and a list of malformed paths that must each be refused with a reason.
public sealed class TilePathTests
{
    [Theory]
    [InlineData(0L, "000")]
    [InlineData(7L, "007")]
    [InlineData(999L, "999")]
    [InlineData(1000L, "x001/000")]
    [InlineData(1234067L, "x001/x234/067")]
    [InlineData(long.MaxValue, "x009/x223/x372/x036/x854/x775/807")]
    public void FormatIndex_Vectors(long index, string expected)
    {
        Assert.Equal(expected, TilePath.FormatIndex(index));
    }

    [Theory]
    [InlineData("tile/0/000", false, 0, 0L, 256)]
    [InlineData("tile/0/x001/x234/067", false, 0, 1234067L, 256)]
    [InlineData("tile/1/x001/234.p/17", false, 1, 1234L, 17)]
    [InlineData("tile/63/000.p/1", false, 63, 0L, 1)]
    [InlineData("tile/entries/000", true, 0, 0L, 256)]
    [InlineData("tile/entries/x001/000.p/255", true, 0, 1000L, 255)]
    [InlineData("tile/2/x009/x223/x372/x036/x854/x775/807", false, 2, long.MaxValue, 256)]
    public void TryParse_CanonicalPaths_RoundTrip(string path, bool entries, int level, long index, int width)
    {
        Assert.True(TilePath.TryParse(path, out var tile, out var error), error);
        Assert.Null(error);
        Assert.Equal(entries, tile.IsEntryBundle);
        Assert.Equal(level, tile.Level);
        Assert.Equal(index, tile.Index);
        Assert.Equal(width, tile.Width);
        Assert.Equal(width < 256, tile.IsPartial);
        Assert.Equal(path, tile.ToString());
    }

    [Fact]
    public void ToString_FactoryTiles_ParseBackEqual()
    {
        TilePath[] tiles =
        [
            TilePath.HashTile(0, 0), TilePath.HashTile(3, 999, 5), TilePath.HashTile(0, 1000, 256),
            TilePath.EntryBundle(1234067), TilePath.EntryBundle(42, 1),
        ];
        foreach (var tile in tiles)
        {
            Assert.True(TilePath.TryParse(tile.ToString(), out var parsed, out _), tile.ToString());
            Assert.Equal(tile, parsed);
        }
    }

    [Theory]
    [InlineData("0/000")] // no tile/ prefix
    [InlineData("tile/")]
    [InlineData("tile/0")]
    [InlineData("tile/0/")]
    [InlineData("tile/00/000")] // level with a leading zero
    [InlineData("tile/64/000")] // level beyond 63
    [InlineData("tile/-1/000")]
    [InlineData("tile/a/000")]
    [InlineData("tile/0/00")] // index element not 3 digits
    [InlineData("tile/0/0000")]
    [InlineData("tile/0/1")]
    [InlineData("tile/0/abc")]
    [InlineData("tile/0/x001")] // last element must not carry x
    [InlineData("tile/0/x1/001")]
    [InlineData("tile/0/001/002")] // a non-x element before the last
    [InlineData("tile/0/x000/001")] // non-canonical leading zero group
    [InlineData("tile/0/000/")]
    [InlineData("tile/0/000.p")]
    [InlineData("tile/0/000.p/")]
    [InlineData("tile/0/000.p/0")] // width 0
    [InlineData("tile/0/000.p/256")] // a full tile has no .p suffix
    [InlineData("tile/0/000.p/01")] // width with a leading zero
    [InlineData("tile/0/000.p/5/6")]
    [InlineData("tile/0/000.q/5")]
    [InlineData("tile/entries/")]
    [InlineData("tile/entries/x001")]
    [InlineData("tile/entries/entries/000")]
    [InlineData("tile/0/x009/x223/x372/x036/x854/x775/808")] // long.MaxValue + 1
    [InlineData("tile/0/x001/x000/x000/x000/x000/x000/x000/000")] // more than 7 elements
    public void TryParse_Malformed_IsRefusedWithReason(string path)
    {
        Assert.False(TilePath.TryParse(path, out _, out var error), path);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Factories_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.HashTile(64, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.HashTile(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.HashTile(0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.EntryBundle(0, 257));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.FormatIndex(-1));
    }
}
