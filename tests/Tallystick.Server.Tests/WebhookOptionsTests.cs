namespace Tallystick.Server.Tests;

// Goal: the SSRF escape hatch is off unless the operator turns it on, from the environment or the config file, and a
// value that is not a boolean stops the start. Method: TallyOptions.Load over dictionaries and a temp file.
public sealed class WebhookOptionsTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    public void Load_AllowPrivateTargets_FromEnvironment(string? value, bool expected)
    {
        var options = TallyOptions.Load(new Dictionary<string, string?> { ["TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = value }, null);

        Assert.Equal(expected, options.WebhooksAllowPrivateTargets);
    }

    [Fact]
    public void Load_AllowPrivateTargets_FromConfigFileAndInvalidRefused()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "{\"webhooksAllowPrivateTargets\":true}");
            Assert.True(TallyOptions.Load(new Dictionary<string, string?>(), file).WebhooksAllowPrivateTargets);
            var error = Assert.Throws<ArgumentException>(() => TallyOptions.Load(
                new Dictionary<string, string?> { ["TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "maybe" }, null));
            Assert.Contains("TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
