using Tallystick.Notes;

namespace Tallystick.Core.Tests.Notes;

// Goal: signing keys parse in the Go sumdb format and Sign reproduces the published sumdb/note output byte for
// byte (Ed25519 is deterministic). Method: the PeterNeumann and Log test keys from test-vectors.md §2.3–§2.4,
// generated keys round-tripped through their text forms, and invalid keys and texts rejected.
public sealed class NoteSignerTests
{
    [Fact]
    public void Parse_PeterNeumannKey_DerivesPublishedVerifier()
    {
        var signer = NoteSigner.Parse(NoteVectors.PeterPrivateKey);
        Assert.Equal("PeterNeumann", signer.Name);
        Assert.Equal(0xc74f20a3u, signer.KeyId);
        Assert.Equal(NoteVectors.PeterVkey, signer.Verifier.VerifierKeyText);
        Assert.Equal(NoteVectors.PeterPrivateKey, signer.PrivateKeyText);
    }

    [Fact]
    public void Parse_LogKey_DerivesPublishedVerifier()
    {
        Assert.Equal(NoteVectors.LogVkey, NoteSigner.Parse(NoteVectors.LogPrivateKey).Verifier.VerifierKeyText);
    }

    [Fact]
    public void Sign_PeterNeumannVector_ReproducesPublishedNoteExactly()
    {
        var signed = NoteSigner.Parse(NoteVectors.PeterPrivateKey).Sign(NoteVectors.PeterText);
        Assert.Equal(NoteVectors.PeterNote, signed);
    }

    [Fact]
    public void Generate_NewKey_RoundTripsThroughTextAndVerifies()
    {
        var signer = NoteSigner.Generate("tallystick.example/log");
        var parsed = NoteSigner.Parse(signer.PrivateKeyText);
        Assert.Equal(signer.Verifier.VerifierKeyText, parsed.Verifier.VerifierKeyText);
        var verifier = NoteVerifier.Parse(signer.Verifier.VerifierKeyText);

        var note = parsed.Sign("hello\n");
        Assert.True(SignedNote.Verify(note, verifier, out var text).IsValid);
        Assert.Equal("hello\n", text);
        Assert.Equal(note, signer.Sign("hello\n"));
    }

    [Fact]
    public void Generate_TwoKeys_Differ()
    {
        Assert.NotEqual(NoteSigner.Generate("a").PrivateKeyText, NoteSigner.Generate("a").PrivateKeyText);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("has+plus")]
    [InlineData("tab\tname")]
    [InlineData("nbsp\u00a0name")]
    public void Generate_InvalidName_ThrowsArgumentException(string name)
    {
        Assert.Throws<ArgumentException>(() => NoteSigner.Generate(name));
    }

    [Theory]
    [InlineData("no final newline")]
    [InlineData("control \u0001 character\n")]
    [InlineData("carriage return\r\n")]
    public void Sign_InvalidText_ThrowsArgumentException(string text)
    {
        var signer = NoteSigner.Parse(NoteVectors.PeterPrivateKey);
        Assert.Throws<ArgumentException>(() => signer.Sign(text));
    }

    // Not an InlineData row: xunit's serialisation of theory data would replace the lone surrogate with U+FFFD.
    [Fact]
    public void Sign_LoneSurrogate_ThrowsArgumentException()
    {
        var signer = NoteSigner.Parse(NoteVectors.PeterPrivateKey);
        Assert.Throws<ArgumentException>(() => signer.Sign("lone \ud800 surrogate\n"));
    }

    [Theory]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEX+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF")]
    [InlineData(NoteVectors.PeterVkey)]
    public void Parse_BadPrivateKey_ThrowsFormatExceptionWithoutSecret(string privateKey)
    {
        var e = Assert.Throws<FormatException>(() => NoteSigner.Parse(privateKey));
        Assert.DoesNotContain("AYEKFALVFGyNhPJEMzD1QIDr", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_Always_OmitsPrivateKey()
    {
        var signer = NoteSigner.Parse(NoteVectors.PeterPrivateKey);
        Assert.DoesNotContain("AYEKFALVFGyNhPJEMzD1QIDr", signer.ToString(), StringComparison.Ordinal);
        Assert.Contains(NoteVectors.PeterVkey, signer.ToString(), StringComparison.Ordinal);
    }
}
