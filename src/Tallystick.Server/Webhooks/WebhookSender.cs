using System.Globalization;
using System.Net.Http.Headers;
using Tallystick.Webhooks;

namespace Tallystick.Server.Webhooks;

/// <summary>A delivery claimed for sending: its row's retry state and the rendered event (the same bytes each time).
/// </summary>
internal sealed record QueuedDelivery(long Id, long EndpointId, int Attempts, long WindowStart, WebhookEvent Event,
    WebhookPayload Payload);

/// <summary>How one attempt ended. <c>Final</c>: the endpoint or the event is gone, so it is not retried.</summary>
internal sealed record AttemptOutcome(int? StatusCode, string? Error, long DurationMs, bool Final = false)
{
    public bool Delivered => Error is null;
}

/// <summary>
/// Sends one signed attempt (docs/api.md, Webhooks, "Headers and signatures") through one shared HTTP client. The
/// client follows no redirects, uses no proxy or cookies, and connects only through
/// <see cref="WebhookTargets.ConnectAsync"/> (the SSRF check at every connection). Its pool allows
/// <see cref="WebhookSchedule.InFlightMax"/> connections per host: the dispatcher bounds each endpoint's attempts
/// itself, so two endpoints on one host never queue behind each other inside the client. Each attempt has
/// <see cref="WebhookSchedule.AttemptTimeout"/> for connect, send and the response headers; the body of the answer is
/// not read.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly WebhookSchedule _schedule;

    public WebhookSender(WebhookTargets targets, TimeProvider time, WebhookSchedule schedule)
    {
        _time = time;
        _schedule = schedule;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = targets.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectTimeout = schedule.AttemptTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = schedule.InFlightMax,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Tallystick-Webhooks/1");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>One attempt; null when <paramref name="stopping"/> interrupted it (then it never happened as far as
    /// the delivery log is concerned, and is sent again after the restart).</summary>
    public async Task<AttemptOutcome?> SendAsync(WebhookEndpoint endpoint, QueuedDelivery delivery,
        CancellationToken stopping)
    {
        var started = _time.GetTimestamp();
        try
        {
            using var request = Sign(endpoint, delivery.Event, delivery.Payload);
            using var timeout = new CancellationTokenSource(_schedule.AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead,
                    linked.Token);
                var code = (int)response.StatusCode;
                return new AttemptOutcome(code, code is >= 200 and < 300 ? null : $"HTTP {code}", Elapsed(started));
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
            {
                return new AttemptOutcome(null, $"timed out after {_schedule.AttemptTimeout.TotalSeconds:0.###} s",
                    Elapsed(started));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (HttpRequestException x)
        {
            return new AttemptOutcome(null, x.InnerException?.Message ?? x.Message, Elapsed(started));
        }
    }

    private long Elapsed(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>Builds the signed request; the signatures cover this attempt's timestamp.</summary>
    private HttpRequestMessage Sign(WebhookEndpoint endpoint, WebhookEvent e, WebhookPayload payload)
    {
        var now = _time.GetUtcNow();
        var milliseconds = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var secrets = endpoint.SigningSecrets(now.ToUnixTimeMilliseconds());
        var pacSpace = secrets.Select(s => WebhookSignatures.PacSpace(s, milliseconds, payload.Body)).ToList();
        var standard = secrets.Select(s => WebhookSignatures.Standard(s, e.PublicId, seconds, payload.Body));
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new ByteArrayContent(payload.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("X-PacSpace-Signature", string.Join(',', pacSpace));
        headers.TryAddWithoutValidation("X-PacSpace-Timestamp", milliseconds);
        headers.TryAddWithoutValidation("X-Webhook-Event", e.Type);
        headers.TryAddWithoutValidation("X-Event-ID", e.PublicId);
        headers.TryAddWithoutValidation("Pacspace-Signature", $"t={milliseconds}," + string.Join(',', pacSpace));
        headers.TryAddWithoutValidation("Pacspace-Event", e.Type);
        headers.TryAddWithoutValidation("Idempotency-Key", payload.IdempotencyKey);
        headers.TryAddWithoutValidation("webhook-id", e.PublicId);
        headers.TryAddWithoutValidation("webhook-timestamp", seconds);
        headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', standard));
        return request;
    }
}
