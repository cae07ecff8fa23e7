using Tallystick.Deltas;
using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Deltas;

// Goal: the persisted and hashed byte formats (item bytes, receipt root, receipt log entry) never change by accident.
// Method: build them from fixed inputs and compare with golden files under tests/testdata/golden; the expected
// hashes were computed independently (Python hashlib) from those files, not by this code.
public sealed class DeltaItemGoldenTests
{
    private static readonly byte[] Salt = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");

    private static DeltaItem Full() => new(
        Amount.FromDecimal(-42.50m), "0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d",
        "{\"n\":4.5,\"plan\":\"growth\",\"z\":\"€\\n\"}", "gpu_burst_capacity", 1770733921123, "job_abc123", Salt, 1041);

    private static DeltaItem Minimal() => new(
        Amount.FromDecimal(1000m), "0x0000000000000000000000000000000000000001", null, "r", 0, null,
        Convert.FromHexString("ffffffffffffffffffffffffffffffff"), 0);

    [Fact]
    public void CanonicalBytes_FullItem_MatchGoldenFile()
    {
        Assert.Equal(Golden("delta-item-v1.bin"), Full().ToCanonicalBytes());
    }

    [Fact]
    public void CanonicalBytes_WithoutOptionalMembers_MatchGoldenFile()
    {
        Assert.Equal(Golden("delta-item-v1-minimal.bin"), Minimal().ToCanonicalBytes());
    }

    [Fact]
    public void ItemHash_IsRfc6962LeafHashOfCanonicalBytes()
    {
        Assert.Equal("78e95f7985dd85848923b872a181fdf75961d4ce105101d3fa46938eac400d88", Convert.ToHexStringLower(Full().ItemHash()));
        Assert.Equal("1bf475267c550368385877f855e1a8de6445dfae9325f435c039c7658a717910", Convert.ToHexStringLower(Minimal().ItemHash()));
    }

    [Fact]
    public void ReceiptRootAndLogEntry_MatchGolden()
    {
        var root = MerkleTree.RootFromLeafHashes([Full().ItemHash(), Minimal().ItemHash()]);
        Assert.Equal("f5ce35ca520f4043c1da4e6eceee2ba72264ffc5758fb3fbb2e42401fdf17e66", Convert.ToHexStringLower(root));

        var entry = ReceiptLogEntry.Create(root, 1770733921123);

        Assert.Equal(Golden("receipt-entry-v1.bin"), entry);
        Assert.Equal("abf5d2112060796ea5ba0d92a7fc49f81480d7625e8f0857b70252e82c44018d",
            Convert.ToHexStringLower(Rfc6962.HashLeaf(entry)));
    }

    [Fact]
    public void ItemHash_AnyFieldChange_ChangesHash()
    {
        var original = Convert.ToHexStringLower(Full().ItemHash());
        var variants = new[]
        {
            Full() with { Amount = Amount.FromDecimal(-42.51m) },
            Full() with { Sequence = 1042 },
            Full() with { Salt = Convert.FromHexString("000102030405060708090a0b0c0d0e0e") },
            Full() with { ReceivedAtUnixMs = 1770733921124 },
            Full() with { ReferenceId = null },
            Full() with { MetadataJson = null },
            Full() with { Reason = "gpu_burst_capacitY" },
            Full() with { CustomerReference = "0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4e" },
        };
        Assert.All(variants, v => Assert.NotEqual(original, Convert.ToHexStringLower(v.ItemHash())));
    }

    private static byte[] Golden(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "testdata", "golden", name));
}
