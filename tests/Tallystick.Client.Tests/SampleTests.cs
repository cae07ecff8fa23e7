using Tallystick.Sample;

namespace Tallystick.Client.Tests;

// Goal: the sample app (samples/Tallystick.Sample, shown in the README) works against a real server: it emits,
// waits for VERIFIED, derives, compares, verifies the proof bundle offline and checks the log, and a second run
// records nothing new and finds the log consistent with the checkpoint the first run saved. Method: its entry point,
// in process, against the in-process server; its printed report is the oracle.
public sealed class SampleTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    [Fact]
    public async Task Sample_TwoRuns_AllChecksPassAndSecondRecordsNothingNew()
    {
        var checkpointFile = Path.Combine(server.DataDirectory, "sample-checkpoint.txt");
        string[] args = ["--url", server.BaseAddress.ToString(), "--api-key", InProcessServer.AcmeTest,
            "--customer", "sample_run", "--checkpoint-file", checkpointFile];
        using var first = new StringWriter();
        using var second = new StringWriter();

        var firstExit = await SampleProgram.RunAsync(args, first);
        var saved = await File.ReadAllTextAsync(checkpointFile);
        var secondExit = await SampleProgram.RunAsync(args, second);

        Assert.True(firstExit == 0, first.ToString());
        Assert.True(secondExit == 0, second.ToString());
        var report = first.ToString();
        Assert.Contains("emitted   3 deltas for sample_run (0 already recorded)", report, StringComparison.Ordinal);
        Assert.Contains("verified  VERIFIED at ", report, StringComparison.Ordinal);
        Assert.Contains("derived   balance -229.75 over 3 deltas", report, StringComparison.Ordinal);
        Assert.Contains("compared  matches the verified record: 0 discrepancies", report, StringComparison.Ordinal);
        Assert.Contains("offline   proof bundle verified against test.tallystick/client-log", report,
            StringComparison.Ordinal);
        Assert.Contains("trusted on first use", report, StringComparison.Ordinal);
        Assert.StartsWith("test.tallystick/client-log\n", saved, StringComparison.Ordinal);
        var again = second.ToString();
        Assert.Contains("(3 already recorded)", again, StringComparison.Ordinal);
        Assert.Contains("derived   balance -229.75 over 3 deltas", again, StringComparison.Ordinal);
        Assert.Matches(@"log       size \d+ → \d+, consistent", again);
    }

    [Fact]
    public async Task Sample_UnknownArgument_UsageAndExit2()
    {
        using var output = new StringWriter();

        var exit = await SampleProgram.RunAsync(["--verbose", "yes"], output);

        Assert.Equal(2, exit);
        Assert.StartsWith("error: unknown argument '--verbose'\nusage: tallystick-sample", output.ToString(),
            StringComparison.Ordinal);
    }
}
