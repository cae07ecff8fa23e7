using System.Text.Json;
using Tallystick.Canonical;

namespace Tallystick.Core.Tests.Canonical;

// Goal: JsonCanonicalizer reproduces the RFC 8785 author's reference outputs byte for byte (test-vectors.md §5.1).
// Method: golden files tests/testdata/jcs/input/*.json → output/*.json (copied to the test output folder);
// each input is parsed with System.Text.Json, canonicalised and compared; canonical output must be a fixed point.
public sealed class JcsGoldenFileTests
{
    public static TheoryData<string> Names => new() { "arrays", "structures", "values", "unicode", "french", "weird" };

    [Theory]
    [MemberData(nameof(Names))]
    public void Canonicalize_GoldenInput_MatchesGoldenOutputBytes(string name)
    {
        using var input = JsonDocument.Parse(File.ReadAllBytes(GoldenPath("input", name)));
        var expected = File.ReadAllBytes(GoldenPath("output", name));
        var actual = JsonCanonicalizer.Canonicalize(input.RootElement);
        Assert.True(expected.AsSpan().SequenceEqual(actual),
            $"{name}: expected {Convert.ToHexStringLower(expected)}, got {Convert.ToHexStringLower(actual)}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Canonicalize_GoldenOutput_IsFixedPoint(string name)
    {
        var canonical = File.ReadAllBytes(GoldenPath("output", name));
        using var doc = JsonDocument.Parse(canonical);
        Assert.Equal(canonical, JsonCanonicalizer.Canonicalize(doc.RootElement));
    }

    [Fact]
    public void Canonicalize_ValuesGolden_HasPublishedLengths()
    {
        Assert.Equal(118, File.ReadAllBytes(GoldenPath("output", "values")).Length);
        Assert.Equal(214, File.ReadAllBytes(GoldenPath("output", "weird")).Length);
        Assert.Equal(
            "099601b171cafed97c333f8878d68e7f8c8f795412adb34b2fdcf0e7c7beac42",
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                File.ReadAllBytes(GoldenPath("output", "arrays")))));
    }

    private static string GoldenPath(string kind, string name) =>
        Path.Combine(AppContext.BaseDirectory, "testdata", "jcs", kind, name + ".json");
}
