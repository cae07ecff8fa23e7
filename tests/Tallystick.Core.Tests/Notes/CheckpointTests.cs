using System.Text;
using Tallystick.Core.Tests.Merkle;
using Tallystick.Merkle;
using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: checkpoints format and parse as C2SP tlog-checkpoint and transparency-dev/formats expect, real signed
// checkpoints verify, and any single-byte change to a signed checkpoint is rejected. Method: the sum.golang.org
// checkpoint and the transparency-dev body cases (test-vectors.md §2.4–§2.5), the computed §2.6 checkpoint
// reproduced byte for byte, and an exhaustive sweep of byte flips over it.
public sealed class CheckpointTests
{
    private static readonly NoteVerifier Peter = NoteVerifier.Parse(NoteVectors.PeterVkey);
    private const string Root8Base64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";

    [Fact]
    public void TryVerify_SumGolangOrgCheckpoint_IsValidAndParses()
    {
        var verifier = NoteVerifier.Parse(NoteVectors.SumDbVkey);
        var result = Checkpoint.TryVerify(NoteVectors.SumDbCheckpoint, verifier, "go.sum database tree", out var cp);
        Assert.True(result.IsValid, result.ToString());
        Assert.NotNull(cp);
        Assert.Equal("go.sum database tree", cp.Origin);
        Assert.Equal(6476701, cp.Size);
        Assert.Equal(NoteVectors.SumDbRootHex, Convert.ToHexStringLower(cp.RootHash));
    }

    [Fact]
    public void TryVerify_WrongExpectedOrigin_IsInvalid()
    {
        var verifier = NoteVerifier.Parse(NoteVectors.SumDbVkey);
        var result = Checkpoint.TryVerify(
            NoteVectors.SumDbCheckpoint, verifier, "Go rocks but I might have the wrong ID", out var cp);
        Assert.False(result.IsValid);
        Assert.Contains("does not match the expected origin", result.Error, StringComparison.Ordinal);
        Assert.Null(cp);
    }

    [Fact]
    public void Sign_ComputedEightLeafCheckpoint_ReproducesVectorExactly()
    {
        var checkpoint = new Checkpoint("PeterNeumann", 8, MerkleVectors8Root());
        var signed = NoteSigner.Parse(NoteVectors.PeterPrivateKey).Sign(checkpoint.ToNoteText());
        Assert.Equal(NoteVectors.PeterCheckpoint, signed);

        var result = Checkpoint.TryVerify(signed, Peter, "PeterNeumann", out var parsed);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(checkpoint, parsed);
    }

    [Fact]
    public void TryVerify_AnySingleByteOfSignedCheckpointChanged_IsInvalid()
    {
        var bytes = Encoding.UTF8.GetBytes(NoteVectors.PeterCheckpoint);
        byte[] masks = [0x01, 0x02, 0x20, 0x80];
        for (int i = 0; i < bytes.Length; i++)
        {
            foreach (var mask in masks)
            {
                var changed = (byte[])bytes.Clone();
                changed[i] ^= mask;
                var note = Encoding.UTF8.GetString(changed);
                var result = Checkpoint.TryVerify(note, Peter, "PeterNeumann", out var cp);
                Assert.False(result.IsValid, $"byte {i} ^ 0x{mask:x2} still verifies: {note}");
                Assert.Null(cp);
            }
        }
    }

    [Fact]
    public void TryVerify_SignedNoteThatIsNotACheckpoint_IsInvalid()
    {
        var result = Checkpoint.TryVerify(NoteVectors.PeterNote, Peter, "PeterNeumann", out var cp);
        Assert.False(result.IsValid);
        Assert.StartsWith("invalid checkpoint", result.Error, StringComparison.Ordinal);
        Assert.Null(cp);
    }

    [Fact]
    public void ToNoteText_Checkpoint_IsOriginSizeAndBase64Root()
    {
        var checkpoint = new Checkpoint("Log", 123, MerkleVectors8Root());
        Assert.Equal($"Log\n123\n{Root8Base64}\n", checkpoint.ToNoteText());
        Assert.Equal(checkpoint, Checkpoint.ParseNoteText(checkpoint.ToNoteText()));
    }

    [Fact]
    public void ParseNoteText_ExtensionLines_AreAcceptedAndIgnored()
    {
        var checkpoint = Checkpoint.ParseNoteText($"Log\n9944\n{Root8Base64}\nHere's some associated data.\n");
        Assert.Equal(new Checkpoint("Log", 9944, MerkleVectors8Root()), checkpoint);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void ParseNoteText_SizeBoundaries_Parse(string size, long expected)
    {
        Assert.Equal(expected, Checkpoint.ParseNoteText($"Log\n{size}\n{Root8Base64}\n").Size);
    }

    [Theory]
    [InlineData("Head\n9944\n")]
    [InlineData("\n9944\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n123\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")]
    [InlineData("Log\nbananas\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n-34\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n+34\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n0123\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n3438945738945739845734895735\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n9223372036854775808\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    [InlineData("Log\n123\nThisIsn'tBase64\n")]
    [InlineData("Log\n123\nYmFuYW5hcw==\n")]
    [InlineData("Log\n123\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n")]
    [InlineData("Log\n123\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\nextension after empty line\n")]
    [InlineData("Log\r\n123\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")]
    public void ParseNoteText_InvalidBody_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => Checkpoint.ParseNoteText(text));
    }

    [Fact]
    public void Constructor_InvalidFields_Throws()
    {
        var root = MerkleVectors8Root();
        Assert.Throws<ArgumentException>(() => new Checkpoint("", 1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("two\nlines", 1, root));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("Log", -1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("Log", 1, new byte[31]));
        var checkpoint = new Checkpoint("Log", 1, root);
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint with { Size = -5 });
    }

    [Fact]
    public void Equals_SameContentDifferentArrays_AreEqual()
    {
        var a = new Checkpoint("Log", 8, MerkleVectors8Root());
        var b = new Checkpoint("Log", 8, MerkleVectors8Root());
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Size = 9 });
        Assert.Contains(Root8Base64, a.ToString(), StringComparison.Ordinal);
    }

    private static byte[] MerkleVectors8Root() =>
        MerkleTree.RootFromLeafHashes(MerkleVectors.LeafHashes(8));
}
