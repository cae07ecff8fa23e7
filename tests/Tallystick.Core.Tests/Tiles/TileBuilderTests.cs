using Tallystick.Core.Tests.Merkle;
using Tallystick.Tiles;

namespace Tallystick.Core.Tests.Tiles;

// Goal: TileBuilder produces exactly the tiles C2SP tlog-tiles defines (hash i of tile n at level l is
// MTH(D[(256n+i)·256^l : (256n+i+1)·256^l])), the partial tiles of the spec's examples, and the RFC 6962 root.
// Method: compare against the literal recursive MTH of the test oracle (Reference) at sizes around tile
// boundaries, and check the spec's worked examples for sizes 256 and 70,000.
public sealed class TileBuilderTests
{
    [Fact]
    public void Append_AroundTileBoundaries_TilesAndRootMatchDefinition()
    {
        var leaves = Leaves(700);
        var checkAt = new HashSet<int> { 0, 1, 2, 255, 256, 257, 511, 512, 513, 700 };
        var builder = new TileBuilder();
        var full = new List<Tile>();
        for (int size = 0; ; size++)
        {
            if (checkAt.Contains(size))
            {
                HashAssert.Equal(Reference.Mth(leaves[..size]), builder.Root(), $"root at size {size}");
                foreach (var tile in full.Concat(builder.PartialTiles()))
                {
                    AssertTileMatchesDefinition(leaves[..size], tile, $"size {size}");
                }
                var partial = builder.PartialTiles();
                Assert.Equal(ExpectedPartialWidths(size), partial.Select(t => (t.Path.Level, t.Path.Width)).ToList());
            }
            if (size == leaves.Length)
            {
                break;
            }
            full.AddRange(builder.Append(leaves[size]));
            Assert.Equal(size + 1, builder.Size);
        }
        Assert.Equal([(0, 0L), (0, 1L)], full.Select(t => (t.Path.Level, t.Path.Index)).ToList());
    }

    [Fact]
    public void Size256_IsOneFullLevel0TileAndAPartialLevel1TileOfWidth1()
    {
        var leaves = Leaves(256);
        var builder = new TileBuilder();
        var full = leaves.SelectMany(leaf => builder.Append(leaf)).ToList();
        var tile = Assert.Single(full);
        Assert.Equal(TilePath.HashTile(0, 0), tile.Path);
        var partial = Assert.Single(builder.PartialTiles());
        Assert.Equal(TilePath.HashTile(1, 0, 1), partial.Path);
        HashAssert.Equal(Reference.Mth(leaves), partial.Hashes, "level-1 hash = root of the full level-0 tile");
    }

    [Fact]
    public void Size70000_HasTheSpecExampleTiles()
    {
        // tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
        // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2
        // tile of width 1."
        var leaves = Leaves(70_000);
        var builder = new TileBuilder();
        var full = leaves.SelectMany(leaf => builder.Append(leaf).Select(t => t.Path)).ToList();
        Assert.Equal(273, full.Count(p => p.Level == 0));
        Assert.Equal([TilePath.HashTile(1, 0)], full.Where(p => p.Level == 1));
        Assert.Equal(
            [TilePath.HashTile(0, 273, 112), TilePath.HashTile(1, 1, 17), TilePath.HashTile(2, 0, 1)],
            builder.PartialTiles().Select(t => t.Path));
        var level2 = builder.PartialTiles()[2];
        HashAssert.Equal(Reference.Mth(leaves, 0, 65_536), level2.Hashes, "level-2 hash 0");
        HashAssert.Equal(Reference.Mth(leaves), builder.Root(), "root");
    }

    [Fact]
    public void PerfectSubtreeRoot_MatchesReferenceAndRejectsNonPowersOfTwo()
    {
        var leaves = Leaves(8);
        foreach (int count in new[] { 1, 2, 4, 8 })
        {
            var concatenated = leaves[..count].SelectMany(h => h).ToArray();
            HashAssert.Equal(Reference.Mth(leaves[..count]), TileBuilder.PerfectSubtreeRoot(concatenated), $"{count}");
        }
        Assert.Throws<ArgumentException>(() => TileBuilder.PerfectSubtreeRoot(new byte[3 * 32]));
        Assert.Throws<ArgumentException>(() => TileBuilder.PerfectSubtreeRoot(new byte[33]));
        Assert.Throws<ArgumentException>(() => TileBuilder.PerfectSubtreeRoot([]));
    }

    [Fact]
    public void Append_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TileBuilder().Append(new byte[31]));
    }

    private static void AssertTileMatchesDefinition(byte[][] leaves, Tile tile, string context)
    {
        Assert.False(tile.Path.IsEntryBundle);
        Assert.Equal(tile.Path.Width * 32, tile.Hashes.Length);
        int span = 1 << (8 * tile.Path.Level);
        for (int i = 0; i < tile.Path.Width; i++)
        {
            long first = ((tile.Path.Index * 256) + i) * span;
            var want = Reference.Mth(leaves, (int)first, (int)first + span);
            HashAssert.Equal(want, tile.Hashes.AsSpan(i * 32, 32), $"{context}, {tile.Path} hash {i}");
        }
    }

    private static List<(int Level, int Width)> ExpectedPartialWidths(long size)
    {
        var widths = new List<(int, int)>();
        for (int level = 0; (size >> (8 * level)) > 0; level++)
        {
            int width = (int)((size >> (8 * level)) % 256);
            if (width > 0)
            {
                widths.Add((level, width));
            }
        }
        return widths;
    }

    private static byte[][] Leaves(int count) =>
        [.. Enumerable.Range(0, count).Select(i => Reference.Leaf(BitConverter.GetBytes(i)))];
}
