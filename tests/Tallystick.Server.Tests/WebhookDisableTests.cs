using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Tallystick.Server.Storage;
using Tallystick.Server.Webhooks;

namespace Tallystick.Server.Tests;

// Goal: an attempt that was in flight when its endpoint was re-enabled can neither count towards nor trigger a
// disable of the re-enabled endpoint (it neither starts, extends nor ends its failure streak); attempts made with the
// re-enabled endpoint still count and disable it.
// Method: the dispatcher's store driven directly on a real SQLite file, with a FakeTimeProvider for the endpoint
// changes; each attempt carries the endpoint version it was made with, as the dispatcher's lanes stamp it, and the
// interleaving (attempts start, the first disables, re-enable, the second ends) is written out in order.
public sealed class WebhookDisableTests : IDisposable
{
    private const long PlaneId = 1;
    private readonly string _dir =
        Path.Combine(Path.GetTempPath(), "tally-webhook-disable-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [Theory]
    [InlineData(1000)]
    [InlineData(0)] // A clock that does not move between the steps: the endpoint's version still does.
    public void Write_AttemptInFlightAcrossReEnable_NeitherCountsNorDisables(int stepMs)
    {
        using var database = new Database(_dir);
        var endpoints = new WebhookEndpoints(database, _time);
        var id = endpoints.Create(PlaneId, "http://127.0.0.1:9/hook", null, null, enabled: true).Endpoint!.Id;
        using var store = new WebhookDeliveryStore(database);
        var before = store.ReadEndpoints()[id].Endpoint;

        // Two attempts start with the endpoint as it is; the first fails and (DisableAfter zero) disables it.
        _time.Advance(TimeSpan.FromMilliseconds(stepMs));
        var first = Write(store, Failed(before));
        Assert.Equal([id], first.Disabled);
        Assert.False(endpoints.Find(PlaneId, id)!.Enabled);
        // The user enables it again while the second attempt is still in flight; then that attempt fails too.
        _time.Advance(TimeSpan.FromMilliseconds(stepMs));
        endpoints.Update(PlaneId, id, new WebhookEndpointPatch(null, null, null, Enabled: true, ClearEvents: false));
        _time.Advance(TimeSpan.FromMilliseconds(stepMs));
        var second = Write(store, Failed(before));

        Assert.Empty(second.Disabled);
        Assert.Empty(second.Recorded);
        Assert.True(endpoints.Find(PlaneId, id)!.Enabled);
        Assert.Null(FailingSince(database, id));

        // An attempt made with the re-enabled endpoint counts: it starts the streak, and DisableAfter zero disables.
        var after = store.ReadEndpoints()[id].Endpoint;
        var third = Write(store, Failed(after));
        Assert.Equal([id], third.Disabled);
        Assert.False(endpoints.Find(PlaneId, id)!.Enabled);
        Assert.Equal(Now, FailingSince(database, id));
    }

    [Fact]
    public void Write_AttemptsFromBeforeAndAfterReEnable_OnlyTheLaterMakeTheStreak()
    {
        // DisableAfter is an hour: a failure made with the re-enabled endpoint starts its streak, and a slow attempt
        // from before the re-enable that succeeds afterwards does not end it (nor would a failure extend it).
        var disableAfter = TimeSpan.FromHours(1);
        using var database = new Database(_dir);
        var endpoints = new WebhookEndpoints(database, _time);
        var id = endpoints.Create(PlaneId, "http://127.0.0.1:9/hook", null, null, enabled: true).Endpoint!.Id;
        using var store = new WebhookDeliveryStore(database);
        var before = store.ReadEndpoints()[id].Endpoint;
        endpoints.Update(PlaneId, id, new WebhookEndpointPatch(null, null, null, Enabled: false, ClearEvents: false));
        endpoints.Update(PlaneId, id, new WebhookEndpointPatch(null, null, null, Enabled: true, ClearEvents: false));
        var after = store.ReadEndpoints()[id].Endpoint;

        _time.Advance(TimeSpan.FromSeconds(1));
        var streakStart = Now;
        var fresh = Failed(after);
        _time.Advance(TimeSpan.FromSeconds(1));
        var written = store.Write(null, [], EndpointHealth.Of([fresh, Delivered(before)]), Now, disableAfter);

        Assert.True(after.UpdatedAt > before.UpdatedAt);
        Assert.Empty(written.Disabled);
        Assert.Equal(after.UpdatedAt, Assert.Single(written.Recorded).EndpointVersion);
        Assert.Equal(streakStart, FailingSince(database, id));

        _time.Advance(disableAfter);
        var later = store.Write(null, [], EndpointHealth.Of([Failed(after)]), Now, disableAfter);
        Assert.Equal([id], later.Disabled);
        Assert.Contains("HTTP 500", endpoints.Find(PlaneId, id)!.DisabledReason, StringComparison.Ordinal);
    }

    private HealthWritten Write(WebhookDeliveryStore store, FinishedAttempt attempt) =>
        store.Write(null, [], EndpointHealth.Of([attempt]), Now, TimeSpan.Zero);

    private FinishedAttempt Failed(WebhookEndpoint endpoint) => new(DeliveryId: 1, endpoint.Id, endpoint.UpdatedAt,
        Attempts: 0, WindowStart: 0, new AttemptOutcome(500, "HTTP 500", DurationMs: 1), Now);

    private FinishedAttempt Delivered(WebhookEndpoint endpoint) => new(DeliveryId: 2, endpoint.Id, endpoint.UpdatedAt,
        Attempts: 0, WindowStart: 0, new AttemptOutcome(200, null, DurationMs: 1), Now);

    private static long? FailingSince(Database database, long id)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT failing_since FROM webhook_endpoints WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() as long?;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
