using System.Security.Cryptography;
using Tallystick.Proofs;

namespace Tallystick.Core.Tests.Proofs;

// Goal: tlog-proof text is produced and accepted exactly as C2SP tlog-proof@v1 (c2sp.org/tlog-proof, read at
// C2SP/C2SP@0065ea5) specifies, and anything else is refused with a reason naming the problem. Method: round trips
// through Format/Parse, the spec's own example layout, and one malformed variant per grammar rule.
public sealed class TlogProofTests
{
    private const string Note = "example.com/log\n2\nqnTbHm7RW4vd4rBw3Tr4bMxLe0nmJyc6vhhMbGqJqLE=\n\n\u2014 example.com/log AAAAAAAA\n";
    private static readonly byte[] H1 = SHA256.HashData("h1"u8);
    private static readonly byte[] H2 = SHA256.HashData("h2"u8);

    [Fact]
    public void Format_WithoutExtra_IsHeaderIndexHashesBlankLineCheckpoint()
    {
        var text = new TlogProof(5, [H1, H2], Note).Format();

        Assert.Equal(
            "c2sp.org/tlog-proof@v1\nindex 5\n" + Convert.ToBase64String(H1) + "\n" + Convert.ToBase64String(H2) +
            "\n\n" + Note, text);
    }

    [Fact]
    public void Format_WithExtraAndNoHashes_MatchesSpecLayout()
    {
        var text = new TlogProof(0, [], Note, "extra information"u8.ToArray()).Format();

        Assert.Equal("c2sp.org/tlog-proof@v1\nextra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 0\n\n" + Note, text);
    }

    [Theory]
    [InlineData(0L, 0, false)]
    [InlineData(5L, 2, false)]
    [InlineData(73894L, 5, true)]
    [InlineData(long.MaxValue, 63, true)]
    public void Parse_FormattedProof_RoundTrips(long index, int hashCount, bool withExtra)
    {
        var hashes = Enumerable.Range(0, hashCount).Select(i => SHA256.HashData([(byte)i])).ToArray();
        var original = new TlogProof(index, hashes, Note, withExtra ? [1, 2, 3] : null);

        Assert.True(TlogProof.TryParse(original.Format(), out var parsed, out var error), error);

        Assert.Equal(index, parsed!.Index);
        Assert.Equal(hashes, parsed.Hashes);
        Assert.Equal(Note, parsed.Checkpoint);
        Assert.Equal(withExtra ? [1, 2, 3] : null, parsed.Extra);
        Assert.Equal(original.Format(), parsed.Format());
    }

    [Fact]
    public void Parse_CheckpointWithCosignatures_KeepsItVerbatim()
    {
        var note = "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n" +
            "\u2014 example.com/fancylog hI2DJw==\n\u2014 witness1.example mJirIklj\n";
        var text = "c2sp.org/tlog-proof@v1\nindex 73894\n" + Convert.ToBase64String(H1) + "\n\n" + note;

        var proof = TlogProof.Parse(text);

        Assert.Equal(note, proof.Checkpoint);
        Assert.Equal(text, proof.Format());
    }

    public static TheoryData<string, string> Malformed()
    {
        string h1 = Convert.ToBase64String(H1);
        string tooMany = string.Concat(Enumerable.Repeat(h1 + "\n", 64));
        return new TheoryData<string, string>
        {
            { "", "line 1 is not \"c2sp.org/tlog-proof@v1\"" },
            { "c2sp.org/tlog-proof@v2\nindex 0\n\n" + Note, "line 1 is not" },
            { "C2SP.org/tlog-proof@v1\nindex 0\n\n" + Note, "line 1 is not" },
            { "c2sp.org/tlog-proof@v1\n", "no index line" },
            { "c2sp.org/tlog-proof@v1\nextra AQID\n", "no index line" },
            { "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n" + Note, "line 2: extra data is not canonical non-empty base64" },
            { "c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\n" + Note, "line 2: extra data" },
            { "c2sp.org/tlog-proof@v1\nextra AQI\nindex 0\n\n" + Note, "line 2: extra data" },
            { "c2sp.org/tlog-proof@v1\nindex\n\n" + Note, "line 2: expected \"index <N>\"" },
            { "c2sp.org/tlog-proof@v1\nindex \n\n" + Note, "line 2: index \"\" is not a decimal number" },
            { "c2sp.org/tlog-proof@v1\nindex  5\n\n" + Note, "is not a decimal number" },
            { "c2sp.org/tlog-proof@v1\nindex -1\n\n" + Note, "index \"-1\" is not a decimal number" },
            { "c2sp.org/tlog-proof@v1\nindex +1\n\n" + Note, "is not a decimal number" },
            { "c2sp.org/tlog-proof@v1\nindex 0x10\n\n" + Note, "is not a decimal number" },
            { "c2sp.org/tlog-proof@v1\nindex 007\n\n" + Note, "line 2: index \"007\" has leading zeros" },
            { "c2sp.org/tlog-proof@v1\nindex 9223372036854775808\n\n" + Note, "exceeds 9223372036854775807" },
            { "c2sp.org/tlog-proof@v1\nIndex 1\n\n" + Note, "line 2: expected \"index <N>\"" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + h1[..^4] + "\n\n" + Note, "line 3: not the canonical base64 of a 32-byte hash" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + h1 + " \n\n" + Note, "line 3: not the canonical base64" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + Convert.ToBase64String(new byte[33]) + "\n\n" + Note, "line 3: not the canonical base64" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + tooMany + "\n" + Note, "more than 63 proof hashes" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + h1 + "\n", "no empty line before the checkpoint" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n" + h1 + "\n\n", "the checkpoint is empty" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n\n\n" + Note, "more than one empty line before the checkpoint" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n\n" + Note.TrimEnd('\n'), "the checkpoint does not end with a newline" },
            { "c2sp.org/tlog-proof@v1\r\nindex 1\r\n\r\n" + Note, "control character U+000D" },
            { "c2sp.org/tlog-proof@v1\nindex 1\n\n" + Note.Replace("\n2\n", "\n2\t\n", StringComparison.Ordinal), "control character U+0009" },
            { new string('x', TlogProof.TextCharsMax + 1), "characters, at most 65536" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryParse_Malformed_FailsWithPreciseReason(string text, string reason)
    {
        Assert.False(TlogProof.TryParse(text, out var proof, out var error));
        Assert.Null(proof);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => TlogProof.Parse(text));
        Assert.Equal("invalid tlog-proof: " + error, e.Message);
    }

    [Fact]
    public void Constructor_InvalidParts_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TlogProof(-1, [], Note));
        Assert.Throws<ArgumentException>(() => new TlogProof(0, [new byte[31]], Note));
        Assert.Throws<ArgumentException>(() => new TlogProof(0, Enumerable.Repeat(H1, 64).ToArray(), Note));
        Assert.Throws<ArgumentException>(() => new TlogProof(0, [], ""));
        Assert.Throws<ArgumentException>(() => new TlogProof(0, [], "no final newline"));
        Assert.Throws<ArgumentException>(() => new TlogProof(0, [], Note, []));
    }

    [Fact]
    public void Hashes_AreCopies_CallerCannotChangeTheProof()
    {
        var hash = (byte[])H1.Clone();
        var proof = new TlogProof(1, [hash], Note);
        hash[0] ^= 1;

        Assert.Equal(H1, proof.Hashes[0]);
    }
}
