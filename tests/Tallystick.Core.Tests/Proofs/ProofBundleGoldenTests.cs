using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Tallystick.Core.Tests.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;

namespace Tallystick.Core.Tests.Proofs;

// Goal: the proof bundle format never changes by accident, the checked-in example verifies, and every hash in it is
// what docs/proof-spec.md says. Method: rebuild the bundle from fixed inputs (GoldenBundle) and compare it with the
// golden file byte for byte; recompute each hash by hand from the raw bytes with SHA256.HashData and the literal
// RFC 6962 reference (Merkle/Reference.cs), never through the code under test.
// Set TALLY_UPDATE_GOLDEN=1 to rewrite the golden file after a deliberate format change.
public sealed class ProofBundleGoldenTests
{
    private const string Item0 =
        "{\"amount\":\"100\",\"customer\":\"0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d\",\"reason\":\"credit_purchase\"," +
        "\"receivedAt\":\"2026-02-10T14:32:01.123Z\",\"referenceId\":\"inv_2026_02\"," +
        "\"salt\":\"000102030405060708090a0b0c0d0e0f\",\"sequence\":1040,\"v\":\"tallystick.delta.v1\"}";

    private const string Item1 =
        "{\"amount\":\"-42.5\",\"customer\":\"0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d\"," +
        "\"metadata\":{\"n\":4.5,\"plan\":\"growth\"},\"reason\":\"gpu_burst_capacity\"," +
        "\"receivedAt\":\"2026-02-10T14:32:01.123Z\",\"referenceId\":\"job_abc123\"," +
        "\"salt\":\"101112131415161718191a1b1c1d1e1f\",\"sequence\":1041,\"v\":\"tallystick.delta.v1\"}";

    private const string Item2 =
        "{\"amount\":\"-0.00000001\",\"customer\":\"0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d\",\"reason\":\"rounding\"," +
        "\"receivedAt\":\"2026-02-10T14:32:01.123Z\",\"salt\":\"202122232425262728292a2b2c2d2e2f\",\"sequence\":1042," +
        "\"v\":\"tallystick.delta.v1\"}";

    [Fact]
    public void Create_FixedInputs_MatchesGoldenFile()
    {
        var json = GoldenBundle.ToJson(GoldenBundle.Create());
        if (Environment.GetEnvironmentVariable("TALLY_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(SourcePath(), json);
        }

        Assert.Equal(File.ReadAllText(GoldenBundle.Path), json);
    }

    [Fact]
    public void GoldenKey_IsDerivedFromItsFixedSeed_AndPublishedBesideTheBundle()
    {
        var seed = SHA256.HashData("tallystick/proof-bundle/golden-key/v1"u8);
        var signer = NoteSigner.Parse(GoldenBundle.PrivateKey);

        Assert.EndsWith("+" + Convert.ToBase64String([0x01, .. seed]), GoldenBundle.PrivateKey, StringComparison.Ordinal);
        Assert.Equal(GoldenBundle.Vkey, signer.Verifier.VerifierKeyText);
        Assert.Equal(GoldenBundle.Vkey + "\n", File.ReadAllText(Path.ChangeExtension(GoldenBundle.Path, ".vkey")));
    }

    [Fact]
    public void Verify_GoldenFile_IsValidUnderTheGoldenKey()
    {
        var result = ProofBundleVerifier.Verify(GoldenBundle.Load(), GoldenBundle.Key);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(ProofBundleStep.None, result.FailedStep);
        Assert.Equal(GoldenBundle.LogSize, result.Checkpoint!.Size);
        Assert.Equal(GoldenBundle.Origin, result.Checkpoint.Origin);
    }

    [Fact]
    public void GoldenFile_EveryHash_MatchesIndependentComputation()
    {
        var bundle = GoldenBundle.Load();
        byte[][] items = [Encoding.UTF8.GetBytes(Item0), Encoding.UTF8.GetBytes(Item1), Encoding.UTF8.GetBytes(Item2)];
        var itemHashes = items.Select(i => Sha256([0x00], i)).ToArray();
        var receipt = Sha256([0x01], Sha256([0x01], itemHashes[0], itemHashes[1]), itemHashes[2]);
        var entry = new byte[41];
        entry[0] = 0x01;
        BinaryPrimitives.WriteInt64BigEndian(entry.AsSpan(1), 1770733921123);
        Sha256(Encoding.ASCII.GetBytes("tallystick/receipt-commitment/v1\n"), receipt).CopyTo(entry, 9);

        Assert.Equal(Item1, Encoding.UTF8.GetString(Convert.FromBase64String(bundle.CanonicalItem)));
        Assert.Equal(Hex(itemHashes[1]), bundle.ItemHash);
        Assert.Equal([Hex(itemHashes[0]), Hex(itemHashes[2])], bundle.ItemPath);
        Assert.Equal(Hex(receipt), bundle.ReceiptId);
        Assert.Equal(Convert.ToBase64String(entry), bundle.LogLeaf);
        // Literal values, computed once with Python's hashlib from the item strings above.
        Assert.Equal("0x5acdcb0a18159f19670b37d89e6b90f5c79c9e3f306220d1adba71e513add667", bundle.ItemHash);
        Assert.Equal("0x760a633ba2ee37857ce2788a3e423208dfd9ded8879172ad2fc7e0ae1c7f25a5", bundle.ReceiptId);

        var leafHashes = GoldenBundle.LogEntries(entry).Select(e => Sha256([0x00], e)).ToArray();
        var proof = TlogProof.Parse(bundle.TlogProof);
        Assert.Equal(GoldenBundle.LogIndex, proof.Index);
        Assert.Equal(Reference.Path(GoldenBundle.LogIndex, leafHashes).Select(Hex), proof.Hashes.Select(Hex));
        var body = $"{GoldenBundle.Origin}\n{GoldenBundle.LogSize}\n{Convert.ToBase64String(Reference.Mth(leafHashes))}\n";
        Assert.StartsWith(body + "\n\u2014 " + GoldenBundle.Origin + " ", proof.Checkpoint, StringComparison.Ordinal);
    }

    private static byte[] Sha256(params byte[][] parts) => SHA256.HashData(parts.SelectMany(p => p).ToArray());

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);

    private static string SourcePath()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "Tallystick.slnx")))
        {
            directory = directory.Parent ?? throw new InvalidOperationException("repository root not found");
        }
        return Path.Combine(directory.FullName, "tests", "testdata", "golden", GoldenBundle.FileName);
    }
}
