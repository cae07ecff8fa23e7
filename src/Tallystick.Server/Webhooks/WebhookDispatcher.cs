using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;

namespace Tallystick.Server.Webhooks;

/// <summary>One attempt that ended, waiting to be recorded. <c>EndpointVersion</c> is the <c>updated_at</c> of the
/// endpoint as the attempt used it (URL, secrets): its outcome counts towards that version's failure streak only.
/// </summary>
internal sealed record FinishedAttempt(long DeliveryId, long EndpointId, long EndpointVersion, int Attempts,
    long WindowStart, AttemptOutcome Outcome, long AtUnixMs);

/// <summary>
/// Delivers the outbox, off the sequencer. One loop owns the database side (<see cref="WebhookDeliveryStore"/>, its
/// own connection): each pass fans committed events out to the endpoints subscribed to them once the state they
/// describe is durable, records in the same transaction every attempt that ended since the last pass, and refills
/// each endpoint's queue with due deliveries, rendered. Lanes (<see cref="WebhookEndpointQueue"/>) send them, at most
/// <see cref="WebhookSchedule.EndpointInFlightMax"/> per endpoint (<see cref="WebhookSchedule.FailingEndpointInFlightMax"/>
/// while its last attempt failed, so a dead endpoint holds one slot) and <see cref="WebhookSchedule.InFlightMax"/>
/// overall, each attempt bounded by <see cref="WebhookSchedule.AttemptTimeout"/>. Passes are at least
/// <see cref="WebhookSchedule.PassIntervalMin"/> apart, so the dispatcher takes SQLite's write lock, which the
/// sequencer needs for every commit, a bounded number of times a second whatever the delivery rate.
/// At least once: an attempt is recorded only after it ends; one interrupted by a stop is sent again after the
/// restart, with the same event id. All state is in SQLite.
/// </summary>
internal sealed class WebhookDispatcher : BackgroundService
{
    /// <summary>Characters of an error message kept in the delivery log.</summary>
    public const int ErrorCharsMax = 300;

    private readonly Database _database;
    private readonly WebhookEndpoints _endpoints;
    private readonly Sequencer _sequencer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WebhookSchedule _schedule;
    private readonly WebhookSender _sender;
    private readonly ConcurrentQueue<FinishedAttempt> _finished = new();
    private readonly List<FinishedAttempt> _unrecorded = [];
    private readonly Dictionary<long, WebhookEndpointQueue> _queues = [];
    private readonly ManualResetEventSlim _wake = new(initialState: false);
    private long _awaitSequenced;
    private long _awaitVerified;
    private long _eventsWrittenAt;
    private int _running;
    private long _endpointsVersion = -1;
    private long _endpointsReadAt;
    private long _subscriptionsRefreshedAt;
    private long _writtenAt;

    public WebhookDispatcher(Database database, WebhookEndpoints endpoints, Sequencer sequencer, TimeProvider time,
        TallyOptions options, ILogger<WebhookDispatcher> logger)
    {
        _database = database;
        _endpoints = endpoints;
        _sequencer = sequencer;
        _time = time;
        _logger = logger;
        _schedule = options.WebhookSchedule ?? WebhookSchedule.Default;
        _sender = new WebhookSender(new WebhookTargets(options.WebhooksAllowPrivateTargets), time, _schedule);
        _subscriptionsRefreshedAt = _endpointsReadAt = time.GetTimestamp();
    }

    /// <summary>Asks for a pass now (new events, a finished attempt, a manual retry); cheap, from any thread.</summary>
    public void Wake() => _wake.Set();

    /// <summary>The outbox wrote events in a commit that leaves the log at these sizes: they can be fanned out once
    /// the published head reaches them (after the fsync), which the loop then checks every
    /// <see cref="WebhookSchedule.HeadPollInterval"/>.</summary>
    public void EventsWritten(long sequencedTo, long verifiedTo)
    {
        Raise(ref _awaitSequenced, sequencedTo);
        Raise(ref _awaitVerified, verifiedTo);
        Volatile.Write(ref _eventsWrittenAt, _time.GetTimestamp());
        Wake();

        static void Raise(ref long field, long value)
        {
            var seen = Volatile.Read(ref field);
            while (value > seen && Interlocked.CompareExchange(ref field, value, seen) is var actual && actual != seen)
            {
                seen = actual;
            }
        }
    }

    public override void Dispose()
    {
        _sender.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    /// <summary>Runs the loop on a thread of its own (<c>tally-webhooks</c>), like the sequencer: on the thread pool
    /// its passes queued behind the request handlers whenever the server was busy, and deliveries fell seconds
    /// behind.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "tally-webhooks",
        };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        WebhookDeliveryStore? store = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var started = _time.GetTimestamp();
                try
                {
                    store ??= new WebhookDeliveryStore(_database);
                    Pass(store, stoppingToken);
                }
                catch (Exception e) when (e is SqliteException or StoreUnavailableException)
                {
                    _logger.LogWarning(e, "webhook dispatcher pass failed; retrying");
                    store?.Dispose();
                    store = null;
                }
                WaitForWork(started, stoppingToken);
            }
            // Lanes see the stop: attempts in flight are abandoned (sent again after the restart). Record the rest.
            while (Volatile.Read(ref _running) > 0)
            {
                Thread.Sleep(5);
            }
            if (store is not null)
            {
                RecordFinished(store, fanOutMax: null);
            }
        }
        catch (Exception e) when (e is SqliteException or StoreUnavailableException)
        {
            _logger.LogWarning(e, "webhook dispatcher could not record its last attempts; they are sent again");
        }
        finally
        {
            store?.Dispose();
        }
    }

    private void WaitForWork(long started, CancellationToken stoppingToken)
    {
        var elapsed = _time.GetElapsedTime(started);
        if (elapsed < _schedule.PassIntervalMin && stoppingToken.WaitHandle.WaitOne(_schedule.PassIntervalMin - elapsed))
        {
            return;
        }
        var head = _sequencer.Head;
        var awaiting = Volatile.Read(ref _awaitSequenced) > head.SequencedSize ||
            Volatile.Read(ref _awaitVerified) > head.CheckpointSize;
        if (awaiting && _time.GetElapsedTime(Volatile.Read(ref _eventsWrittenAt)) < _schedule.HeadWaitMax)
        {
            // Events wait for their fsync, a few milliseconds: check the published head again soon.
            stoppingToken.WaitHandle.WaitOne(_schedule.HeadPollInterval);
        }
        else
        {
            try
            {
                _wake.Wait(_schedule.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        // A wake from now on is seen by the next wait; one before this is covered by the pass that follows.
        _wake.Reset();
    }

    private void Pass(WebhookDeliveryStore store, CancellationToken stoppingToken)
    {
        if (_time.GetElapsedTime(_subscriptionsRefreshedAt) >= WebhookEndpoints.SubscriptionsRefreshInterval)
        {
            // Endpoint changes made by the CLI, in another process, are seen here.
            _endpoints.RefreshSubscriptions();
            _subscriptionsRefreshedAt = _time.GetTimestamp();
        }
        if (_endpoints.Version != _endpointsVersion ||
            _time.GetElapsedTime(_endpointsReadAt) >= WebhookEndpoints.SubscriptionsRefreshInterval)
        {
            _endpointsVersion = _endpoints.Version;
            _endpointsReadAt = _time.GetTimestamp();
            SyncQueues(store.ReadEndpoints());
        }
        if (WriteDue())
        {
            RecordFinished(store, store.ReadyMax(_sequencer.Head));
            _writtenAt = _time.GetTimestamp();
        }
        Refill(store, stoppingToken);
    }

    /// <summary>
    /// Whether this pass writes. Promptly (every pass) while some endpoint waits for work, since then the fan-out is
    /// what its next delivery waits for; otherwise (every endpoint has its queue filled, e.g. one that hangs) at most
    /// every <see cref="WebhookSchedule.WriteIntervalMax"/>, so the events pile up into fewer, larger transactions:
    /// each commit rewrites every page it touched, and the sequencer wants the same write lock.
    /// </summary>
    private bool WriteDue() =>
        _time.GetElapsedTime(_writtenAt) >= _schedule.WriteIntervalMax ||
        _finished.Count + _unrecorded.Count >= _schedule.QueuedMax ||
        _queues.Values.Any(q => !q.Removed && q.Queued <= QueueTarget(q) / 2);

    private int QueueTarget(WebhookEndpointQueue queue) => Limit(queue) * _schedule.QueuedPerLaneMax;

    private int Limit(WebhookEndpointQueue queue) =>
        queue.Endpoint.Failing ? _schedule.FailingEndpointInFlightMax : _schedule.EndpointInFlightMax;

    /// <summary>Matches the queues to the enabled endpoints: new ones get a queue, gone ones are emptied (their
    /// attempts in flight still end and are recorded).</summary>
    private void SyncQueues(Dictionary<long, DispatchEndpoint> enabled)
    {
        foreach (var (id, queue) in _queues.ToList())
        {
            if (enabled.ContainsKey(id))
            {
                continue;
            }
            queue.Remove();
            if (queue.Claimed == 0)
            {
                _queues.Remove(id);
            }
        }
        foreach (var (id, endpoint) in enabled)
        {
            if (_queues.TryGetValue(id, out var queue))
            {
                queue.Restore(endpoint);
            }
            else
            {
                _queues[id] = new WebhookEndpointQueue(endpoint);
            }
        }
    }

    /// <summary>The write of a pass: fan-out and the attempts finished so far, in one transaction; nothing when
    /// there is neither.</summary>
    private void RecordFinished(WebhookDeliveryStore store, long? fanOutMax)
    {
        while (_finished.TryDequeue(out var finished))
        {
            _unrecorded.Add(finished);
        }
        if (fanOutMax is null && _unrecorded.Count == 0)
        {
            return;
        }
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var updates = _unrecorded.Select(Plan).ToList();
        var health = EndpointHealth.Of(_unrecorded);
        // On failure the attempts stay in _unrecorded (still claimed) and the next pass records them.
        var written = store.Write(fanOutMax, updates, health, now, _schedule.DisableAfter);
        foreach (var finished in _unrecorded)
        {
            _queues.GetValueOrDefault(finished.EndpointId)?.Release(finished.DeliveryId);
        }
        foreach (var endpoint in written.Recorded)
        {
            if (_queues.GetValueOrDefault(endpoint.EndpointId) is { } queue)
            {
                queue.Endpoint = queue.Endpoint with { Failing = endpoint.FailingSince is not null };
            }
        }
        _unrecorded.Clear();
        foreach (var id in written.Disabled)
        {
            _logger.LogWarning("webhook endpoint we_{Id} disabled after failing for {Days} days", id,
                _schedule.DisableAfter.TotalDays);
        }
        if (written.Disabled.Count > 0)
        {
            _endpoints.RefreshSubscriptions();
        }
    }

    /// <summary>The delivery's next state after an attempt: delivered, pending (a retry after a jittered backoff)
    /// or failed (out of attempts and window, or its endpoint or event is gone).</summary>
    private DeliveryUpdate Plan(FinishedAttempt finished)
    {
        var outcome = finished.Outcome;
        var attempts = finished.Attempts + 1;
        var error = outcome.Error is { Length: > ErrorCharsMax } text ? text[..ErrorCharsMax] : outcome.Error;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(finished.AtUnixMs);
        if (outcome.Delivered)
        {
            return new DeliveryUpdate(finished.DeliveryId, "delivered", attempts, null, finished.AtUnixMs,
                outcome.StatusCode, error, outcome.DurationMs);
        }
        if (!outcome.Final &&
            _schedule.MayRetry(attempts, DateTimeOffset.FromUnixTimeMilliseconds(finished.WindowStart), at))
        {
            var jitter = RandomNumberGenerator.GetInt32(1_000_000) / 1_000_000.0;
            var next = finished.AtUnixMs + (long)_schedule.RetryDelay(attempts, jitter).TotalMilliseconds;
            return new DeliveryUpdate(finished.DeliveryId, "pending", attempts, next, finished.AtUnixMs,
                outcome.StatusCode, error, outcome.DurationMs);
        }
        return new DeliveryUpdate(finished.DeliveryId, "failed", attempts, null, finished.AtUnixMs, outcome.StatusCode,
            error, outcome.DurationMs);
    }

    /// <summary>Tops up each endpoint's queue with due deliveries (rendered) and starts lanes for them.</summary>
    private void Refill(WebhookDeliveryStore store, CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var queuedTotal = _queues.Values.Sum(q => q.Queued);
        foreach (var queue in _queues.Values)
        {
            if (queue.Removed)
            {
                continue;
            }
            var limit = Limit(queue);
            var target = QueueTarget(queue);
            var room = Math.Min(target - queue.Queued, _schedule.QueuedMax - queuedTotal);
            if (room > 0 && queue.Queued <= target / 2)
            {
                // The claimed rows come first among the due ones (in flight, or finished and not yet recorded), so
                // asking for that many more leaves room for new ones.
                foreach (var row in store.Due(queue.Id, now, queue.Claimed + room))
                {
                    if (room == 0)
                    {
                        break;
                    }
                    if (!queue.IsClaimed(row.Id))
                    {
                        Claim(store, queue, row);
                        room--;
                        queuedTotal++;
                    }
                }
            }
            while (Volatile.Read(ref _running) < _schedule.InFlightMax && queue.TryStartLane(limit))
            {
                Interlocked.Increment(ref _running);
                _ = RunLane(queue, stoppingToken);
            }
        }
    }

    private void Claim(WebhookDeliveryStore store, WebhookEndpointQueue queue, DueRow row)
    {
        var e = store.Payloads.ReadEvent(row.EventId);
        if (e is not null && store.Payloads.Render(e) is { } payload)
        {
            queue.Enqueue(new QueuedDelivery(row.Id, queue.Id, row.Attempts, row.WindowStart, e, payload));
            return;
        }
        queue.Claim(row.Id);
        var outcome = new AttemptOutcome(null, "the event or what it describes no longer exists", 0, Final: true);
        _finished.Enqueue(new FinishedAttempt(row.Id, queue.Id, queue.Endpoint.Endpoint.UpdatedAt, row.Attempts,
            row.WindowStart, outcome, _time.GetUtcNow().ToUnixTimeMilliseconds()));
    }

    /// <summary>A lane: sends the endpoint's queued deliveries one after the other until the queue is empty.</summary>
    private async Task RunLane(WebhookEndpointQueue queue, CancellationToken stoppingToken)
    {
        try
        {
            while (queue.TryTakeOrEndLane(stoppingToken.IsCancellationRequested, out var delivery))
            {
                // The endpoint as this attempt uses it: a change made while it is in flight (a re-enable) makes a
                // new version, whose failure streak this attempt is not part of.
                var endpoint = queue.Endpoint.Endpoint;
                var outcome = await Send(endpoint, delivery!, stoppingToken);
                if (outcome is null)
                {
                    queue.Release(delivery!.Id);
                    continue;
                }
                _finished.Enqueue(new FinishedAttempt(delivery!.Id, delivery.EndpointId, endpoint.UpdatedAt,
                    delivery.Attempts, delivery.WindowStart, outcome, _time.GetUtcNow().ToUnixTimeMilliseconds()));
                Wake();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            Wake();
        }
    }

    private async Task<AttemptOutcome?> Send(WebhookEndpoint endpoint, QueuedDelivery delivery,
        CancellationToken stoppingToken)
    {
        try
        {
            return await _sender.SendAsync(endpoint, delivery, stoppingToken);
        }
        catch (Exception e) when (e is InvalidOperationException or UriFormatException or IOException)
        {
            // A request that cannot even be built or written is a failed attempt like any other: retried later.
            _logger.LogWarning(e, "webhook delivery {Id} attempt failed to run", delivery.Id);
            return new AttemptOutcome(null, e.Message, 0);
        }
    }
}
