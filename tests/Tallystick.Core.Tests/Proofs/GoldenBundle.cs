using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tallystick.Deltas;
using Tallystick.Merkle;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Wire;

namespace Tallystick.Core.Tests.Proofs;

// The inputs of tests/testdata/golden/proof-bundle-v1.json, all fixed so the file is reproducible byte for byte:
// an Ed25519 log key whose seed is SHA-256("tallystick/proof-bundle/golden-key/v1") (a public test key: never use
// it for anything real), a record of three deltas with fixed salts and time, and a log of seven entries in which
// the record's entry is leaf 5. The bundle proves the record's second delta.
internal static class GoldenBundle
{
    public const string FileName = "proof-bundle-v1.json";
    public const string Origin = "example.tallystick/log";
    public const string PrivateKey = "PRIVATE+KEY+example.tallystick/log+1589b7fc+AbE3GE0Jb69UjEqcmSP1lwFGQ1uYGRMZEeRdOXqx6jAQ";
    public const string Vkey = "example.tallystick/log+1589b7fc+AVFjQnq5hu58ihwutzUT/OTpAYfGBP8FqfwVqrM19mPE";
    public const string CustomerReference = "0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d";
    public const long AcceptedAtUnixMs = 1770733921123; // 2026-02-10T14:32:01.123Z
    public const int LogIndex = 5;
    public const int LogSize = 7;
    public const int ItemIndex = 1;

    public static readonly DeltaItem[] Items =
    [
        new(Amount.FromDecimal(100m), CustomerReference, null, "credit_purchase", AcceptedAtUnixMs, "inv_2026_02",
            Convert.FromHexString("000102030405060708090a0b0c0d0e0f"), 1040),
        new(Amount.FromDecimal(-42.5m), CustomerReference, "{\"n\":4.5,\"plan\":\"growth\"}", "gpu_burst_capacity",
            AcceptedAtUnixMs, "job_abc123", Convert.FromHexString("101112131415161718191a1b1c1d1e1f"), 1041),
        new(Amount.FromDecimal(-0.00000001m), CustomerReference, null, "rounding", AcceptedAtUnixMs, null,
            Convert.FromHexString("202122232425262728292a2b2c2d2e2f"), 1042),
    ];

    public static NoteVerifier Key => NoteVerifier.Parse(Vkey);

    // Leaf 5 is the record's receipt entry; the others stand for other records (receipt entries of fixed roots).
    public static byte[][] LogEntries(byte[] recordEntry)
    {
        var entries = new byte[LogSize][];
        for (int i = 0; i < LogSize; i++)
        {
            entries[i] = i == LogIndex
                ? recordEntry
                : ReceiptLogEntry.Create(SHA256.HashData([(byte)i]), AcceptedAtUnixMs - 1000 + i);
        }
        return entries;
    }

    public static ProofBundle Create()
    {
        var itemHashes = Items.Select(i => i.ItemHash()).ToArray();
        var receipt = MerkleTree.RootFromLeafHashes(itemHashes);
        var leafHashes = LogEntries(ReceiptLogEntry.Create(receipt, AcceptedAtUnixMs)).Select(e => Rfc6962.HashLeaf(e)).ToArray();
        var signer = NoteSigner.Parse(PrivateKey);
        var note = signer.Sign(new Checkpoint(Origin, LogSize, MerkleTree.RootFromLeafHashes(leafHashes)).ToNoteText());
        var proof = new TlogProof(LogIndex, MerkleTree.InclusionPath(leafHashes, LogIndex), note);
        return ProofBundle.Create("rec_42", "cust_12345", Items[ItemIndex], itemHashes, ItemIndex, proof,
            signer.Verifier);
    }

    // The golden file is indented, with only the escaping JSON requires, so that people can read it.
    public static string ToJson(ProofBundle bundle)
    {
        var options = new JsonSerializerOptions(WireJson.Default.Options)
        {
            WriteIndented = true,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        return JsonSerializer.Serialize(bundle, new WireJson(options).ProofBundle) + "\n";
    }

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "testdata", "golden", FileName);

    public static ProofBundle Load() =>
        JsonSerializer.Deserialize(File.ReadAllText(Path), WireJson.Default.ProofBundle)!;
}
