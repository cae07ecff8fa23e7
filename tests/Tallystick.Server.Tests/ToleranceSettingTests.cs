namespace Tallystick.Server.Tests;

// Goal: a tenant's default compare tolerance (set with `tally tenants set` on a running server) settles small
// variances when a compare gives no tolerance of its own, never for another tenant, and a request's own tolerance
// wins. Method: the real CLI binary writes the setting into the running server's data directory.
public sealed class ToleranceSettingTests(RunningServer server) : IClassFixture<RunningServer>
{
    private static string Body(string customer, string yours, string? tolerance = null) =>
        $"{{\"customerId\":\"{customer}\",\"yourBalance\":{yours}{(tolerance is null ? "" : ",\"tolerance\":" + tolerance)}}}";

    [Fact]
    public async Task TenantDefaultTolerance_AppliesWhenTheRequestGivesNone()
    {
        using var acme = server.Client();
        using var globex = server.Client(RunningServer.GlobexTest);
        foreach (var client in new[] { acme, globex })
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("tol_c", "100"));
            Assert.Equal(201, status);
            await Api.WaitVerified(client, body.GetProperty("data").GetProperty("recordId").GetString()!);
        }
        async Task<bool> Within(HttpClient client, string? tolerance = null)
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/compare", Body("tol_c", "100.005", tolerance));
            Assert.Equal(201, status);
            Assert.False(body.GetProperty("data").GetProperty("match").GetBoolean());
            return body.GetProperty("data").GetProperty("withinTolerance").GetBoolean();
        }
        Assert.False(await Within(acme));

        var (set, output, _) = await CliTests.Tally("tenants", "set", "--tenant", "acme",
            "--compare-tolerance-absolute", "0.01", "--data", server.DataDirectory);
        Assert.Equal(0, set);
        Assert.Contains("compare tolerance absolute 0.01", output, StringComparison.Ordinal);

        Assert.True(await Within(acme));
        Assert.False(await Within(globex));
        Assert.False(await Within(acme, "{\"absolute\":0.001}"));

        var (bad, _, _) = await CliTests.Tally("tenants", "set", "--tenant", "acme",
            "--compare-tolerance-absolute", "-1", "--data", server.DataDirectory);
        Assert.Equal(2, bad);
        var (cleared, _, _) = await CliTests.Tally("tenants", "set", "--tenant", "acme", "--clear-compare-tolerance",
            "--data", server.DataDirectory);
        Assert.Equal(0, cleared);
        Assert.False(await Within(acme));
    }
}
