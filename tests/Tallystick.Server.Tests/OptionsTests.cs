namespace Tallystick.Server.Tests;

// Goal: settings come from environment and config file with the documented precedence, and invalid settings are
// refused at start with a message naming them. Method: TallyOptions.Load over dictionaries and temp files.
public sealed class OptionsTests
{
    [Fact]
    public void Load_EnvironmentOverridesConfigFileOverridesDefaults()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "{\"urls\":\"http://127.0.0.1:9000\",\"dataDir\":\"/tmp/from-file\",\"checkpointIntervalMs\":25}");
        try
        {
            var options = TallyOptions.Load(new Dictionary<string, string?> { ["TALLY_DATA_DIR"] = "/tmp/from-env" }, file);

            Assert.Equal("http://127.0.0.1:9000", options.Urls);
            Assert.Equal("/tmp/from-env", options.DataDirectory);
            Assert.Equal(TimeSpan.FromMilliseconds(25), options.CheckpointInterval);
            Assert.Equal(TimeSpan.FromDays(30), options.IdempotencyRetention);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("TALLY_IDEMPOTENCY_RETENTION_DAYS", "7", "at least 30 days")]
    [InlineData("TALLY_CHECKPOINT_INTERVAL_MS", "-1", "checkpoint interval")]
    [InlineData("TALLY_URLS", "ftp://x", "listen URL")]
    public void Validate_InvalidSetting_NamesIt(string name, string value, string message)
    {
        var options = TallyOptions.Load(new Dictionary<string, string?> { [name] = value }, null);
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonNumericOrUnknownSetting_Refused()
    {
        Assert.Throws<ArgumentException>(() =>
            TallyOptions.Load(new Dictionary<string, string?> { ["TALLY_CHECKPOINT_INTERVAL_MS"] = "soon" }, null));
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "{\"dataDirectory\":\"typo\"}");
        try
        {
            var error = Assert.Throws<ArgumentException>(() => TallyOptions.Load(new Dictionary<string, string?>(), file));
            Assert.Contains("dataDirectory", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
