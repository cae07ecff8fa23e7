using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tallystick.Wire;

namespace Tallystick.Client;

// The retry loop: a bounded number of attempts, each a fresh request with the same body and Idempotency-Key.
// Hand-written rather than Polly: twenty lines, no dependency, and the policy is documented in one record.
public sealed partial class TallyClient
{
    private async Task<T> SendAsync<T>(HttpMethod method, string path, byte[]? body, string? idempotencyKey,
        JsonTypeInfo<Envelope<T>> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var (value, failure) = await AttemptAsync(method, path, body, idempotencyKey, typeInfo, cancellationToken)
                .ConfigureAwait(false);
            if (failure is null)
            {
                return value!;
            }
            if (attempt >= _retry.MaxAttempts || !ErrorMap.IsTransient(failure.Kind))
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
        byte[]? body, string? idempotencyKey, JsonTypeInfo<Envelope<T>> typeInfo, CancellationToken cancellationToken)
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
            return Interpret(response, answer, typeInfo);
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
        JsonTypeInfo<Envelope<T>> typeInfo)
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
        try
        {
            if (JsonSerializer.Deserialize(answer, typeInfo) is { Success: true, Data: { } data })
            {
                return (data, null);
            }
        }
        catch (JsonException)
        {
        }
        return (null, new TallyFailure(TallyErrorKind.Other, status, ErrorMap.UnexpectedResponseCode,
            $"the server answered {status} with a body that is not a {{\"success\":true,\"data\":…}} envelope " +
            $"of {typeof(T).Name}"));
    }

    private HttpRequestMessage NewHttpRequest(HttpMethod method, string path, byte[]? body, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseAddress, path));
        request.Headers.TryAddWithoutValidation("X-Api-Key", _apiKey);
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
