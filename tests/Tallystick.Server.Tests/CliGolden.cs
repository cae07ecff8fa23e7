using System.Text.RegularExpressions;

namespace Tallystick.Server.Tests;

/// <summary>
/// Golden files for the CLI's output (tests/testdata/golden/cli/). Volatile values are normalised before comparing,
/// to placeholders of the same width so table columns stay aligned: timestamps, 0x hashes, proof tokens, log key
/// ids and signatures, the signed note text, and the server's port. Run the tests with TALLY_UPDATE_GOLDEN=1 to
/// rewrite the files in the source tree (then review the diff).
/// </summary>
internal static partial class CliGolden
{
    public static void Check(string name, string output)
    {
        Assert.DoesNotContain("\u001b", output, StringComparison.Ordinal); // Redirected output never has colour.
        var actual = Normalise(output);
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "golden", "cli", name);
        if (Environment.GetEnvironmentVariable("TALLY_UPDATE_GOLDEN") == "1")
        {
            // The source file is the one to commit; the copy next to the tests keeps a rerun without a build honest.
            File.WriteAllText(Path.Combine(SourceDirectory(), name), actual);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"no golden file {name}: run with TALLY_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    public static string Normalise(string output)
    {
        var text = NotePattern().Replace(output, "\"note\": \"<signed note>\"");
        text = TimestampPattern().Replace(text, "YYYY-MM-DDTHH:MM:SS.mmmZ");
        text = HexPattern().Replace(text, m => "0x" + new string('#', m.Length - 2));
        text = TokenPattern().Replace(text, "tpt1_<token>");
        text = KeyPattern().Replace(text, m => "+" + new string('k', 8) + (m.Groups[1].Success ? "+<key>" : ""));
        return PortPattern().Replace(text, "http://127.0.0.1:PORT");
    }

    private static string SourceDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tallystick.slnx")))
        {
            directory = directory.Parent;
        }
        Assert.NotNull(directory);
        var golden = Path.Combine(directory.FullName, "tests", "testdata", "golden", "cli");
        Directory.CreateDirectory(golden);
        return golden;
    }

    [GeneratedRegex("\"note\": \"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex NotePattern();

    [GeneratedRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z")]
    private static partial Regex TimestampPattern();

    // Full hashes (64 hex), customer references (40 hex) and shortened hashes in tables (12 hex and "…").
    [GeneratedRegex("0x[0-9a-f]{12,64}")]
    private static partial Regex HexPattern();

    [GeneratedRegex("tpt1_[A-Za-z0-9_-]+")]
    private static partial Regex TokenPattern();

    // A verifier key's "+keyid+base64" or a signer's "+keyid".
    [GeneratedRegex("\\+[0-9a-f]{8}(\\+[A-Za-z0-9+/]{40,}={0,2})?")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("http://127\\.0\\.0\\.1:[0-9]+")]
    private static partial Regex PortPattern();
}
