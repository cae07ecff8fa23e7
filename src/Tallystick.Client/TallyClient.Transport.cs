using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tallystick.Wire;

namespace Tallystick.Client;

// The retry loop: a bounded number of attempts, each a fresh request with the same body and Idempotency-Key.
// Hand-written rather than Polly: twenty lines, no dependency, and the policy is documented in one record.
public sealed partial class TallyClient
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false,
        throwOnInvalidBytes: true);

    private Task<T> SendAsync<T>(HttpMethod method, string path, byte[]? body, string? idempotencyKey,
        JsonTypeInfo<Envelope<T>> typeInfo, CancellationToken cancellationToken)
        where T : class =>
        SendAsync(method, path, body, idempotencyKey, typeInfo, retry: true, cancellationToken);

    private Task<T> SendAsync<T>(HttpMethod method, string path, byte[]? body, string? idempotencyKey,
        JsonTypeInfo<Envelope<T>> typeInfo, bool retry, CancellationToken cancellationToken)
        where T : class =>
        SendCoreAsync(method, path, body, idempotencyKey, answer => ParseEnvelope(answer, typeInfo),
            $"{{\"success\":true,\"data\":…}} envelope of {typeof(T).Name}", retry, cancellationToken);

    /// <summary>A GET of a <c>text/plain</c> resource (the log's checkpoint and key): the body as UTF-8.</summary>
    private Task<string> GetTextAsync(string path, CancellationToken cancellationToken) =>
        SendCoreAsync(HttpMethod.Get, path, null, null, ParseText, "UTF-8 text", retry: true, cancellationToken);

    private async Task<T> SendCoreAsync<T>(HttpMethod method, string path, byte[]? body, string? idempotencyKey,
        Func<byte[], T?> parse, string expected, bool retry, CancellationToken cancellationToken)
        where T : class
    {
        if (_apiKey is null && NeedsApiKey(path))
        {
            throw new TallyApiException(new TallyFailure(TallyErrorKind.InvalidApiKey, null,
                ErrorMap.ApiKeyRequiredCode, $"{method} {path}: this call needs an API key and the client has none " +
                "(TallyClientOptions.ApiKey); only public verify and the transparency log work without one"),
                attempts: 0);
        }
        for (var attempt = 1; ; attempt++)
        {
            var (value, failure) = await AttemptAsync(method, path, body, idempotencyKey, parse, expected,
                cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return value!;
            }
            if (!retry || attempt >= _retry.MaxAttempts || !ErrorMap.IsTransient(failure.Kind))
            {
                throw new TallyApiException(failure, attempt);
            }
            var delay = failure.RetryAfter ?? _retry.BackoffDelay(attempt, _jitter());
            if (delay > _retry.MaxDelay)
            {
                throw new TallyApiException(failure, attempt); // The server asks for longer than the policy waits.
            }
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(T? Value, TallyFailure? Failure)> AttemptAsync<T>(HttpMethod method, string path,
        byte[]? body, string? idempotencyKey, Func<byte[], T?> parse, string expected,
        CancellationToken cancellationToken)
        where T : class
    {
        using var request = NewHttpRequest(method, path, body, idempotencyKey);
        using var attemptTimeout = _attemptTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(_attemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token)
                .ConfigureAwait(false);
            var answer = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            return Interpret(response, answer, parse, expected);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Our attempt timeout, or HttpClient.Timeout: the server may still be working on it.
            return (null, new TallyFailure(TallyErrorKind.Timeout, null, ErrorMap.TimeoutCode,
                $"{method} {path}: no answer within the attempt timeout", Inner: e));
        }
        catch (HttpRequestException e)
        {
            return (null, new TallyFailure(TallyErrorKind.Network, null, ErrorMap.NetworkErrorCode,
                $"{method} {path}: {e.Message}", Inner: e));
        }
    }

    private (T? Value, TallyFailure? Failure) Interpret<T>(HttpResponseMessage response, byte[] answer,
        Func<byte[], T?> parse, string expected)
        where T : class
    {
        var status = (int)response.StatusCode;
        if (status is < 200 or > 299)
        {
            return (null, ErrorMap.FromAnswer(status, answer, response.Headers, _time.GetUtcNow()));
        }
        if (status == 202 && ErrorMap.FromAnswer(status, answer, response.Headers, _time.GetUtcNow()) is
            { Kind: TallyErrorKind.IdempotencyPending } pending)
        {
            return (null, pending);
        }
        if (parse(answer) is { } value)
        {
            return (value, null);
        }
        return (null, new TallyFailure(TallyErrorKind.Other, status, ErrorMap.UnexpectedResponseCode,
            $"the server answered {status} with a body that is not a {expected}"));
    }

    private static T? ParseEnvelope<T>(byte[] answer, JsonTypeInfo<Envelope<T>> typeInfo)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(answer, typeInfo) is { Success: true, Data: { } data } ? data : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ParseText(byte[] answer)
    {
        try
        {
            return StrictUtf8.GetString(answer);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The server's rule (docs/api.md, opening paragraphs): every <c>/api/v1/balance/</c> and
    /// <c>/api/v1/webhooks/</c> call needs a key; public verify (<c>/api/v1/verify/</c>) and the transparency log
    /// (<c>/log/</c>) do not. Paths here are relative to the base address.</summary>
    private static bool NeedsApiKey(string path) =>
        path.StartsWith("api/v1/balance/", StringComparison.Ordinal) ||
        path.StartsWith("api/v1/webhooks/", StringComparison.Ordinal);

    private HttpRequestMessage NewHttpRequest(HttpMethod method, string path, byte[]? body, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseAddress, path));
        if (_apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", _apiKey);
        }
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }
        return request;
    }
}
