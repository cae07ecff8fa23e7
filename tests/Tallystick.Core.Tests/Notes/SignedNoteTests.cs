using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: SignedNote.Verify accepts the published signed notes and rejects every malformed or forged note that
// golang.org/x/mod sumdb/note rejects, returning a reason instead of throwing. Method: the C2SP spec example and
// the sumdb Peter/Enoch vectors (test-vectors.md §2.2–§2.3), and hand-built malformed variants of them.
public sealed class SignedNoteTests
{
    private static readonly NoteVerifier Peter = NoteVerifier.Parse(NoteVectors.PeterVkey);
    private static readonly NoteVerifier Enoch = NoteVerifier.Parse(NoteVectors.EnochVkey);

    [Fact]
    public void Verify_SpecExample_IsValidAndReturnsText()
    {
        var result = SignedNote.Verify(NoteVectors.SpecNote, NoteVerifier.Parse(NoteVectors.SpecVkey), out var text);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal("This is an example message.\n", text);
    }

    [Fact]
    public void Verify_PeterNote_IsValidAndReturnsText()
    {
        var result = SignedNote.Verify(NoteVectors.PeterNote, Peter, out var text);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(NoteVectors.PeterText, text);
    }

    [Fact]
    public void Verify_EnochSignatureLine_VerifiesWithEnochKey()
    {
        var note = NoteVectors.PeterText + "\n" + NoteVectors.EnochSignatureLine;
        Assert.True(SignedNote.Verify(note, Enoch, out _).IsValid);
    }

    [Fact]
    public void Verify_TwoSigners_EachKeyFindsItsOwnAndIgnoresTheOther()
    {
        var note = NoteVectors.PeterText + "\n" + NoteVectors.PeterSignatureLine + NoteVectors.EnochSignatureLine;
        Assert.True(SignedNote.Verify(note, Peter, out _).IsValid);
        Assert.True(SignedNote.Verify(note, Enoch, out var text).IsValid);
        Assert.Equal(NoteVectors.PeterText, text);
    }

    [Fact]
    public void Verify_OnlyOtherKeysSigned_IsInvalidAndNamesTheMissingKey()
    {
        var result = SignedNote.Verify(NoteVectors.PeterNote, Enoch, out var text);
        Assert.False(result.IsValid);
        Assert.Equal("no signature by EnochRoot+af0cfe78 among 1 signature line(s)", result.Error);
        Assert.Equal("", text);
    }

    [Fact]
    public void Verify_KnownKeyWithBadSignature_IsInvalid()
    {
        // Keep the key id (first 4 bytes of the blob) and change the signature itself.
        var line = NoteVectors.PeterSignatureLine.Replace("x08go/ZJ", "x08go/ZK", StringComparison.Ordinal);
        var result = SignedNote.Verify(NoteVectors.PeterText + "\n" + line, Peter, out _);
        Assert.Equal("invalid signature by PeterNeumann+c74f20a3", result.Error);
    }

    [Fact]
    public void Verify_SignatureOverDifferentText_IsInvalid()
    {
        var note = NoteVectors.PeterText.Replace("answer", "Answer", StringComparison.Ordinal) + "\n"
            + NoteVectors.PeterSignatureLine;
        Assert.False(SignedNote.Verify(note, Peter, out _).IsValid);
    }

    public static TheoryData<string, string> MalformedNotes => new()
    {
        { "text only", NoteVectors.PeterText },
        { "text and blank line only", NoteVectors.PeterText + "\n" },
        { "last line without newline", NoteVectors.PeterText + "\n" + NoteVectors.PeterSignatureLine[..^1] },
        { "leading 0x01", "\u0001" + NoteVectors.PeterNote },
        { "leading 0xff read as latin-1", "\u00ff" + NoteVectors.PeterNote },
        { "carriage return", NoteVectors.PeterNote.Replace("\n", "\r\n", StringComparison.Ordinal) },
        { "space in name", NoteVectors.PeterText + "\n" + NoteVectors.PeterSignatureLine.Replace(
            "PeterNeumann", "Bad Name", StringComparison.Ordinal) },
        { "line after signatures", NoteVectors.PeterNote + "not a signature\n" },
        { "hyphen instead of em dash", NoteVectors.PeterText + "\n-" + NoteVectors.PeterSignatureLine[1..] },
        { "no signature blob", NoteVectors.PeterText + "\n\u2014 PeterNeumann\n" },
        { "blob too short", NoteVectors.PeterText + "\n\u2014 PeterNeumann x08gow==\n" },
        { "blob not base64", NoteVectors.PeterText + "\n\u2014 PeterNeumann x08go!ZJ\n" },
    };

    [Theory]
    [MemberData(nameof(MalformedNotes))]
    public void Verify_MalformedNote_IsInvalidWithReason(string description, string note)
    {
        var result = SignedNote.Verify(note, Peter, out var text);
        Assert.False(result.IsValid, description);
        Assert.False(string.IsNullOrEmpty(result.Error), description);
        Assert.Equal("", text);
    }

    [Fact]
    public void Verify_LoneSurrogate_IsMalformed()
    {
        var result = SignedNote.Verify("\ud800" + NoteVectors.PeterNote, Peter, out _);
        Assert.StartsWith("malformed note: lone surrogate", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_HundredSignatureLines_IsValid()
    {
        var note = NoteVectors.PeterText + "\n" + string.Concat(Enumerable.Repeat(NoteVectors.EnochSignatureLine, 99))
            + NoteVectors.PeterSignatureLine;
        Assert.True(SignedNote.Verify(note, Peter, out _).IsValid);
    }

    [Fact]
    public void Verify_HundredAndOneSignatureLines_IsMalformed()
    {
        var note = NoteVectors.PeterNote + string.Concat(Enumerable.Repeat(NoteVectors.EnochSignatureLine, 100));
        var result = SignedNote.Verify(note, Peter, out _);
        Assert.Equal("malformed note: 101 signature lines, at most 100 allowed", result.Error);
    }

    [Fact]
    public void Verify_TextContainingBlankLines_SplitsAtLastBlankLine()
    {
        var signer = NoteSigner.Parse(NoteVectors.PeterPrivateKey);
        const string body = "first paragraph\n\nsecond paragraph\n\n";
        var result = SignedNote.Verify(signer.Sign(body), Peter, out var text);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(body, text);
    }

    [Fact]
    public void Verify_RepeatedSignatureLine_IsValid()
    {
        var note = NoteVectors.PeterNote + NoteVectors.PeterSignatureLine;
        Assert.True(SignedNote.Verify(note, Peter, out _).IsValid);
    }
}
