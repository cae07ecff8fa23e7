using System.Security.Cryptography;
using System.Text;
using Tallystick.Notes;
using Tallystick.Proofs;

namespace Tallystick.Core.Tests.Proofs;

// Goal: the period-checkpoint statement, its log entry and the proof token are pinned byte for byte and fail
// closed on any change. Oracle: the expected text is written out literally and the entry hash is computed here
// with SHA256 over hand-assembled bytes, not through the code under test.
public sealed class PeriodCheckpointTests
{
    private static readonly byte[] Root = Convert.FromHexString("f5ce35ca520f4043c1da4e6eceee2ba72264ffc5758fb3fbb2e42401fdf17e66");

    private static PeriodCheckpoint Sample() => new("0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d", 10, 1510,
        Amount.FromDecimal(100.5m), Amount.FromDecimal(-42.25m), Root, 1770733921123, 4242);

    private const string SampleText =
        "tallystick.period-checkpoint.v1\n" +
        "customer 0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d\n" +
        "sequences 10 1510\n" +
        "balances 100.5 -42.25\n" +
        "root 0xf5ce35ca520f4043c1da4e6eceee2ba72264ffc5758fb3fbb2e42401fdf17e66\n" +
        "anchored 1770733921123 4242\n";

    [Fact]
    public void Text_IsTheSpecifiedLines()
    {
        Assert.Equal(SampleText, Sample().ToText());
        Assert.Equal(1500, Sample().DeltaCount);
    }

    [Fact]
    public void LogEntry_IsTypeTimeAndCommitmentToTheText()
    {
        var preimage = Encoding.ASCII.GetBytes("tallystick/checkpoint-commitment/v1\n" + SampleText);
        var expected = new byte[41];
        expected[0] = 0x02;
        // 1770733921123 = 0x0000019c47f76363, big-endian
        Convert.FromHexString("0000019c47f76363").CopyTo(expected, 1);
        SHA256.HashData(preimage).CopyTo(expected, 9);

        Assert.Equal(expected, Sample().LogEntry());
    }

    [Fact]
    public void TryParse_RoundTripsAndRefusesNonCanonicalText()
    {
        var parsed = PeriodCheckpoint.TryParse(SampleText);
        Assert.NotNull(parsed);
        Assert.Equal(SampleText, parsed.ToText());
        Assert.Equal(Root, parsed.ProofRoot);
        Assert.Null(PeriodCheckpoint.TryParse(SampleText.Replace("sequences 10", "sequences 010", StringComparison.Ordinal)));
        Assert.Null(PeriodCheckpoint.TryParse(SampleText.Replace("100.5", "100.50", StringComparison.Ordinal)));
        Assert.Null(PeriodCheckpoint.TryParse(SampleText.Replace("0xf5ce", "0xF5CE", StringComparison.Ordinal)));
        Assert.Null(PeriodCheckpoint.TryParse(SampleText.Replace("sequences 10 1510", "sequences 1510 10", StringComparison.Ordinal)));
        Assert.Null(PeriodCheckpoint.TryParse(SampleText + "extra\n"));
        Assert.Null(PeriodCheckpoint.TryParse("example.com/log\n" + SampleText[(SampleText.IndexOf('\n', StringComparison.Ordinal) + 1)..]));
    }

    [Fact]
    public void ProofToken_VerifiesWithTheLogKeyAndFailsOnAnyChange()
    {
        var signer = NoteSigner.Generate("example.com/log");
        var token = ProofToken.Encode(signer.Sign(SampleText));

        Assert.StartsWith("tpt1_", token, StringComparison.Ordinal);
        Assert.DoesNotContain('=', token);
        var statement = ProofToken.Verify(token, signer.Verifier, out var failure);
        Assert.Null(failure);
        Assert.Equal(SampleText, statement!.ToText());

        var other = NoteSigner.Generate("example.com/log");
        Assert.Null(ProofToken.Verify(token, other.Verifier, out failure));
        Assert.Contains("signature", failure, StringComparison.Ordinal);

        var forged = ProofToken.Encode(signer.Sign(SampleText).Replace("balances 100.5", "balances 900.5", StringComparison.Ordinal));
        Assert.Null(ProofToken.Verify(forged, signer.Verifier, out failure));
        Assert.NotNull(failure);

        for (var i = 5; i < token.Length; i += 17)
        {
            var flipped = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.Null(ProofToken.Verify(flipped, signer.Verifier, out _));
        }
        Assert.Null(ProofToken.Verify("tpt2_abc", signer.Verifier, out failure));
        Assert.Null(ProofToken.Verify("tpt1_%%%", signer.Verifier, out failure));
        Assert.Contains("base64url", failure, StringComparison.Ordinal);
    }
}
