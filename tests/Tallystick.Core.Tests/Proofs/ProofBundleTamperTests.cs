using System.Text.Json;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;

namespace Tallystick.Core.Tests.Proofs;

// Goal: no change to any proven member of a bundle goes unnoticed, and the verifier names the step that caught it.
// Method: start from the golden bundle, change one member at a time (one byte, one hex digit, one number), and
// assert the failed step and the gist of the reason. Then forge consistently, layer by layer, to show that each
// outer check still holds when every inner one has been recomputed.
public sealed class ProofBundleTamperTests
{
    private static readonly ProofBundle Golden = GoldenBundle.Load();

    public static TheoryData<string, Func<ProofBundle, ProofBundle>, ProofBundleStep, string> Tampered() => new()
    {
        { "version", b => b with { Version = "tallystick.proof-bundle.v2" }, ProofBundleStep.Format, "version" },
        { "canonicalItem byte 12", b => b with { CanonicalItem = FlipBase64(b.CanonicalItem, 12) }, ProofBundleStep.ItemFields, "\"amount\" is \"-52.5\", but the bundle shows delta \"-42.5\"" },
        { "canonicalItem byte 10", b => b with { CanonicalItem = FlipBase64(b.CanonicalItem, 10) }, ProofBundleStep.ItemFields, "canonicalItem is not JSON" },
        { "canonicalItem last byte", b => b with { CanonicalItem = FlipBase64(b.CanonicalItem, -1) }, ProofBundleStep.ItemFields, "canonicalItem is not JSON" },
        { "canonicalItem base64", b => b with { CanonicalItem = b.CanonicalItem + "=" }, ProofBundleStep.Format, "canonicalItem" },
        { "canonicalItem huge", b => b with { CanonicalItem = new string('A', 40_000) }, ProofBundleStep.Format, "at most 32768" },
        { "itemHash", b => b with { ItemHash = FlipHex(b.ItemHash, 10) }, ProofBundleStep.ItemHash, "canonicalItem hashes to" },
        { "itemHash uppercase", b => b with { ItemHash = b.ItemHash.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal) }, ProofBundleStep.Format, "itemHash" },
        { "itemPath[0]", b => b with { ItemPath = [FlipHex(b.ItemPath[0], 30), b.ItemPath[1]] }, ProofBundleStep.ItemPath, "root mismatch" },
        { "itemPath[1]", b => b with { ItemPath = [b.ItemPath[0], FlipHex(b.ItemPath[1], 65)] }, ProofBundleStep.ItemPath, "root mismatch" },
        { "itemPath dropped", b => b with { ItemPath = [b.ItemPath[0]] }, ProofBundleStep.ItemPath, "wrong proof size 1, want 2" },
        { "itemPath swapped", b => b with { ItemPath = [b.ItemPath[1], b.ItemPath[0]] }, ProofBundleStep.ItemPath, "root mismatch" },
        { "itemIndex", b => b with { ItemIndex = 0 }, ProofBundleStep.ItemPath, "item 0 of 3" },
        { "itemCount", b => b with { ItemCount = 5 }, ProofBundleStep.ItemPath, "item 1 of 5 to receiptId: wrong proof size 2, want 3" },
        { "itemCount smaller", b => b with { ItemCount = 2 }, ProofBundleStep.ItemPath, "item 1 of 2 to receiptId: wrong proof size 2, want 1" },
        { "receiptId", b => b with { ReceiptId = FlipHex(b.ReceiptId, 2) }, ProofBundleStep.ItemPath, "root mismatch" },
        { "logLeaf type", b => b with { LogLeaf = FlipBase64(b.LogLeaf, 0) }, ProofBundleStep.LogLeaf, "entry type 0x00" },
        { "logLeaf time", b => b with { LogLeaf = FlipBase64(b.LogLeaf, 8) }, ProofBundleStep.LogLeaf, "acceptedAt is 1770733921122 ms" },
        { "logLeaf commitment", b => b with { LogLeaf = FlipBase64(b.LogLeaf, 40) }, ProofBundleStep.LogLeaf, "logLeaf commits to" },
        { "logLeaf length", b => b with { LogLeaf = Convert.ToBase64String(Convert.FromBase64String(b.LogLeaf)[..40]) }, ProofBundleStep.LogLeaf, "40 bytes, want 41" },
        { "logIndex", b => b with { LogIndex = 4 }, ProofBundleStep.LogInclusion, "logIndex is 4, but the tlogProof proves index 5" },
        { "tlogProof index", b => b with { TlogProof = EditProof(b.TlogProof, p => new TlogProof(4, p.Hashes, p.Checkpoint)) }, ProofBundleStep.LogInclusion, "logIndex is 5, but the tlogProof proves index 4" },
        { "tlogProof and logIndex", b => b with { LogIndex = 4, TlogProof = EditProof(b.TlogProof, p => new TlogProof(4, p.Hashes, p.Checkpoint)) }, ProofBundleStep.LogInclusion, "root mismatch" },
        { "tlogProof and logIndex beyond", b => b with { LogIndex = 7, TlogProof = EditProof(b.TlogProof, p => new TlogProof(7, p.Hashes, p.Checkpoint)) }, ProofBundleStep.LogInclusion, "index is beyond size: 7 >= 7" },
        { "tlogProof hash 0", b => b with { TlogProof = EditHash(b.TlogProof, 0) }, ProofBundleStep.LogInclusion, "root mismatch" },
        { "tlogProof hash 1", b => b with { TlogProof = EditHash(b.TlogProof, 1) }, ProofBundleStep.LogInclusion, "root mismatch" },
        { "tlogProof hash 2", b => b with { TlogProof = EditHash(b.TlogProof, 2) }, ProofBundleStep.LogInclusion, "root mismatch" },
        { "tlogProof hash dropped", b => b with { TlogProof = EditProof(b.TlogProof, p => new TlogProof(p.Index, p.Hashes.Take(2).ToArray(), p.Checkpoint)) }, ProofBundleStep.LogInclusion, "wrong proof size 2, want 3" },
        { "tlogProof signature", b => b with { TlogProof = EditProof(b.TlogProof, p => new TlogProof(p.Index, p.Hashes, FlipSignature(p.Checkpoint))) }, ProofBundleStep.Checkpoint, "invalid signature by example.tallystick/log+1589b7fc" },
        { "tlogProof checkpoint size", b => b with { TlogProof = b.TlogProof.Replace("/log\n7\n", "/log\n8\n", StringComparison.Ordinal) }, ProofBundleStep.Checkpoint, "invalid signature" },
        { "tlogProof header", b => b with { TlogProof = b.TlogProof.Replace("@v1", "@v2", StringComparison.Ordinal) }, ProofBundleStep.Format, "tlogProof: line 1" },
        { "delta", b => b with { Delta = Amount.FromDecimal(-42.6m) }, ProofBundleStep.ItemFields, "\"amount\" is \"-42.5\", but the bundle shows delta \"-42.6\"" },
        { "delta sign", b => b with { Delta = Amount.FromDecimal(42.5m) }, ProofBundleStep.ItemFields, "delta \"42.5\"" },
        { "reason", b => b with { Reason = "gpu_burst_capacitY" }, ProofBundleStep.ItemFields, "\"reason\" is \"gpu_burst_capacity\"" },
        { "referenceId", b => b with { ReferenceId = "job_abc124" }, ProofBundleStep.ItemFields, "\"referenceId\"" },
        { "referenceId removed", b => b with { ReferenceId = null }, ProofBundleStep.ItemFields, "canonicalItem has \"referenceId\": \"job_abc123\", which the bundle does not show" },
        { "metadata", b => b with { Metadata = Json("{\"n\":4.6,\"plan\":\"growth\"}") }, ProofBundleStep.ItemFields, "\"metadata\"" },
        { "metadata removed", b => b with { Metadata = null }, ProofBundleStep.ItemFields, "which the bundle does not show" },
        { "metadata not an object", b => b with { Metadata = Json("[1]") }, ProofBundleStep.ItemFields, "not an object" },
        { "sequenceNumber", b => b with { SequenceNumber = 1040 }, ProofBundleStep.ItemFields, "\"sequence\" is 1041, but the bundle shows sequenceNumber 1040" },
        { "receivedAt", b => b with { ReceivedAt = "2026-02-10T14:32:01.124Z" }, ProofBundleStep.ItemFields, "\"receivedAt\"" },
        { "receivedAt format", b => b with { ReceivedAt = "2026-02-10T14:32:01Z" }, ProofBundleStep.Format, "receivedAt" },
        { "salt", b => b with { Salt = FlipHex(b.Salt, 0) }, ProofBundleStep.ItemFields, "\"salt\"" },
        { "customerReference", b => b with { CustomerReference = FlipHex(b.CustomerReference, 41) }, ProofBundleStep.ItemFields, "\"customer\"" },
        { "reason lone surrogate", b => b with { Reason = "\ud800" }, ProofBundleStep.ItemFields, "no canonical form" },
        { "logKey", b => b with { LogKey = OtherKey().Verifier.VerifierKeyText }, ProofBundleStep.LogKey, "but the trusted key is" },
        { "logKey missing", b => b with { LogKey = null! }, ProofBundleStep.Format, "logKey is missing" },
        { "itemPath missing", b => b with { ItemPath = null! }, ProofBundleStep.Format, "itemPath is missing" },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public void Verify_OneMemberChanged_FailsAtItsStep(
        string member, Func<ProofBundle, ProofBundle> tamper, ProofBundleStep step, string reason)
    {
        var result = ProofBundleVerifier.Verify(tamper(Golden), GoldenBundle.Key);

        Assert.False(result.IsValid, member);
        Assert.Equal(step, result.FailedStep);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Null(result.Checkpoint);
    }

    [Fact]
    public void Verify_EquivalentMetadataOrder_IsTheSameCanonicalItem()
    {
        var reordered = Golden with { Metadata = Json("{ \"plan\": \"growth\", \"n\": 45e-1 }") };

        Assert.True(ProofBundleVerifier.Verify(reordered, GoldenBundle.Key).IsValid);
    }

    [Fact]
    public void Verify_UnprovenLabels_AreNotCheckedAndSaidSo()
    {
        // recordId and customerId are in no hash (the item carries only the keyed customer reference), so the
        // verifier cannot vouch for them; the bundle's docs and the CLI say so. This pins that contract.
        var relabelled = Golden with { RecordId = "rec_other", CustomerId = "someone_else" };

        Assert.True(ProofBundleVerifier.Verify(relabelled, GoldenBundle.Key).IsValid);
    }

    [Fact]
    public void Verify_ItemCountWithTheSamePathShape_IsNotDistinguishable()
    {
        // RFC 6962 paths bind the count only through their shape: item 1 of 3 and item 1 of 4 have paths of the
        // same length and direction, and the receipt root commits to nothing else about the count. The spec says
        // so ("Proof bundles", what is proven); this pins it, so a change in either is noticed.
        Assert.True(ProofBundleVerifier.Verify(Golden with { ItemCount = 4 }, GoldenBundle.Key).IsValid);
    }

    [Fact]
    public void Verify_SameKeyObjectAfterASuccess_StillChecksEveryOtherNote()
    {
        // The verifier remembers the last note a key verified; a different note (here: a broken signature, then a
        // re-signed checkpoint) must still be checked, and callers must not be able to change what is remembered.
        var key = GoldenBundle.Key;
        var first = ProofBundleVerifier.Verify(Golden, key);
        first.Checkpoint!.RootHash[0] ^= 0xff;
        var second = ProofBundleVerifier.Verify(Golden, key);
        var broken = Golden with
        {
            TlogProof = EditProof(Golden.TlogProof, p => new TlogProof(p.Index, p.Hashes, FlipSignature(p.Checkpoint))),
        };

        Assert.True(second.IsValid, second.ToString());
        Assert.NotEqual(first.Checkpoint.RootHash, second.Checkpoint!.RootHash);
        Assert.Equal(ProofBundleStep.Checkpoint, ProofBundleVerifier.Verify(broken, key).FailedStep);
        Assert.True(ProofBundleVerifier.Verify(Golden, key).IsValid);
    }

    [Fact]
    public void Verify_UntrustedKey_FailsAtLogKeyEvenIfTheBundleIsIntact()
    {
        var result = ProofBundleVerifier.Verify(Golden, OtherKey().Verifier);

        Assert.Equal(ProofBundleStep.LogKey, result.FailedStep);
    }

    [Fact]
    public void Verify_CheckpointResignedByAnotherKeyOfTheSameName_FailsAtCheckpoint()
    {
        var forger = OtherKey();
        var proof = TlogProof.Parse(Golden.TlogProof);
        var body = proof.Checkpoint[..(proof.Checkpoint.IndexOf("\n\n", StringComparison.Ordinal) + 1)];
        var forged = Golden with { TlogProof = new TlogProof(proof.Index, proof.Hashes, forger.Sign(body)).Format() };

        var result = ProofBundleVerifier.Verify(forged, GoldenBundle.Key);

        Assert.Equal(ProofBundleStep.Checkpoint, result.FailedStep);
        Assert.Contains("no signature by example.tallystick/log+1589b7fc", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ForgedConsistentlyLayerByLayer_IsCaughtByTheNextLayer()
    {
        // A forger changes the amount and recomputes the item bytes: the item hash no longer matches.
        var item = GoldenBundle.Items[GoldenBundle.ItemIndex] with { Amount = Amount.FromDecimal(-4.25m) };
        var forged = Golden with { Delta = item.Amount, CanonicalItem = Convert.ToBase64String(item.ToCanonicalBytes()) };
        Assert.Equal(ProofBundleStep.ItemHash, ProofBundleVerifier.Verify(forged, GoldenBundle.Key).FailedStep);

        // ... recomputes the item hash: the path no longer reaches the receipt root.
        var hash = item.ItemHash();
        forged = forged with { ItemHash = Hex(hash) };
        Assert.Equal(ProofBundleStep.ItemPath, ProofBundleVerifier.Verify(forged, GoldenBundle.Key).FailedStep);

        // ... recomputes the receipt root: the log entry commits to the old one.
        var hashes = GoldenBundle.Items.Select(i => i.ItemHash()).ToArray();
        hashes[GoldenBundle.ItemIndex] = hash;
        var receipt = MerkleTree.RootFromLeafHashes(hashes);
        forged = forged with { ReceiptId = Hex(receipt) };
        Assert.Equal(ProofBundleStep.LogLeaf, ProofBundleVerifier.Verify(forged, GoldenBundle.Key).FailedStep);

        // ... recomputes the log entry: the signed tree does not contain it.
        forged = forged with { LogLeaf = Convert.ToBase64String(ReceiptLogEntry.Create(receipt, GoldenBundle.AcceptedAtUnixMs)) };
        var result = ProofBundleVerifier.Verify(forged, GoldenBundle.Key);
        Assert.Equal(ProofBundleStep.LogInclusion, result.FailedStep);
        Assert.Contains("root mismatch", result.Error, StringComparison.Ordinal);
    }

    private static NoteSigner OtherKey() => NoteSigner.Parse(
        "PRIVATE+KEY+example.tallystick/log+" + KeyIdOf(new byte[32]) + "+" + Convert.ToBase64String([1, .. new byte[32]]));

    private static string KeyIdOf(byte[] seed)
    {
        var publicKey = new Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters(seed, 0).GeneratePublicKey().GetEncoded();
        return NoteVerifier.ComputeKeyId(GoldenBundle.Origin, publicKey).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string Hex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);

    // Changes one hex digit at the given character position (to the next digit, so it always differs).
    private static string FlipHex(string hex, int position)
    {
        var chars = hex.ToCharArray();
        chars[position] = chars[position] == 'f' ? '0' : chars[position] == '9' ? 'a' : (char)(chars[position] + 1);
        return new string(chars);
    }

    // Flips the lowest bit of one decoded byte (negative positions count from the end).
    private static string FlipBase64(string base64, int position)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[position < 0 ? bytes.Length + position : position] ^= 1;
        return Convert.ToBase64String(bytes);
    }

    private static string EditProof(string text, Func<TlogProof, TlogProof> edit) => edit(TlogProof.Parse(text)).Format();

    private static string EditHash(string text, int index) => EditProof(text, p =>
    {
        var hashes = p.Hashes.Select(h => (byte[])h.Clone()).ToArray();
        hashes[index][7] ^= 0x80;
        return new TlogProof(p.Index, hashes, p.Checkpoint);
    });

    // Flips a bit in the last byte of the Ed25519 signature on the checkpoint's signature line.
    private static string FlipSignature(string note)
    {
        int space = note.LastIndexOf(' ');
        var blob = Convert.FromBase64String(note[(space + 1)..^1]);
        blob[^1] ^= 1;
        return note[..(space + 1)] + Convert.ToBase64String(blob) + "\n";
    }
}
