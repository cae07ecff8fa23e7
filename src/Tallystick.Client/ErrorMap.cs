using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Tallystick.Client;

/// <summary>One failed attempt, as a value; it becomes a <see cref="TallyApiException"/> only when the client gives
/// up.</summary>
internal sealed record TallyFailure(
    TallyErrorKind Kind,
    int? HttpStatus,
    string Code,
    string Message,
    string? Field = null,
    TimeSpan? RetryAfter = null,
    string? RequestId = null,
    string? CustomerId = null,
    Exception? Inner = null);

/// <summary>
/// The one place where an answer becomes a <see cref="TallyErrorKind"/>, and where error bodies are read.
/// docs/sdk.md holds the same table for readers; ErrorMapTests pins every row.
/// </summary>
internal static class ErrorMap
{
    public const string NetworkErrorCode = "NETWORK_ERROR";
    public const string TimeoutCode = "TIMEOUT";
    public const string UnexpectedResponseCode = "UNEXPECTED_RESPONSE";
    public const string IdempotencyPendingCode = "IDEMPOTENCY_PENDING";

    /// <summary>A client without an API key was asked for a call that needs one; nothing was sent.</summary>
    public const string ApiKeyRequiredCode = "API_KEY_REQUIRED";

    /// <summary>Codes decide first (they are more precise than statuses), then the status.</summary>
    public static TallyErrorKind Classify(int status, string? code)
    {
        switch (code)
        {
            case "INVALID_API_KEY" or "API_KEY_ENVIRONMENT_HOST_MISMATCH":
                return TallyErrorKind.InvalidApiKey;
            case "CADENCE_LIMIT":
                return TallyErrorKind.CadenceLimited;
            case IdempotencyPendingCode:
                return TallyErrorKind.IdempotencyPending;
            case "INVALID_SCOPE_COMBINATION" or "SCOPE_TOO_WIDE" or "UNSUPPORTED_SCOPE":
                return TallyErrorKind.Scope;
        }
        return status switch
        {
            401 or 403 => TallyErrorKind.InvalidApiKey,
            400 or 413 or 415 or 422 => TallyErrorKind.Validation,
            404 => TallyErrorKind.NotFound,
            409 => TallyErrorKind.Conflict,
            429 => TallyErrorKind.RateLimited,
            408 or 504 => TallyErrorKind.Timeout,
            503 => TallyErrorKind.ServiceUnavailable,
            >= 500 and <= 599 => TallyErrorKind.Server,
            _ => TallyErrorKind.Other,
        };
    }

    /// <summary>Whether sending the same request again can succeed. Cadence limits and 4xx never do.</summary>
    public static bool IsTransient(TallyErrorKind kind) => kind is TallyErrorKind.Network or TallyErrorKind.Timeout
        or TallyErrorKind.RateLimited or TallyErrorKind.ServiceUnavailable or TallyErrorKind.Server
        or TallyErrorKind.IdempotencyPending;

    /// <summary>
    /// Reads an error answer. Accepts every shape seen in the wild (reference §6.1): the nested
    /// <c>{"error":{"code","message","field","retryAfterSeconds","customerId"}}</c>, the flat
    /// <c>{"code","message"}</c>, <c>message</c> as an array of strings (joined with "; "), <c>error</c> as a string,
    /// and bodies that are not JSON at all.
    /// </summary>
    public static TallyFailure FromAnswer(int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers,
        DateTimeOffset now)
    {
        var fields = ErrorBody.Read(body);
        var code = fields.Code ?? $"HTTP_{status.ToString(CultureInfo.InvariantCulture)}";
        var message = fields.Message ?? $"the server answered {status} without an error message";
        var retryAfter = RetryAfter(headers, now) ?? fields.RetryAfter;
        return new TallyFailure(Classify(status, fields.Code), status, code, message, fields.Field, retryAfter,
            RequestId(headers) ?? fields.RequestId, fields.CustomerId);
    }

    /// <summary>
    /// <c>Retry-After</c> as delta-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past means "now".
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.RetryAfter is not { } value)
        {
            return null;
        }
        if (value.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (value.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private static string? RequestId(HttpResponseHeaders headers)
    {
        foreach (var name in (ReadOnlySpan<string>)["X-Request-Id", "Request-Id"])
        {
            if (headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } id)
            {
                return id;
            }
        }
        return null;
    }

    private sealed record ErrorBody(string? Code, string? Message, string? Field, TimeSpan? RetryAfter,
        string? RequestId, string? CustomerId)
    {
        private static readonly ErrorBody Empty = new(null, null, null, null, null, null);

        public static ErrorBody Read(ReadOnlySpan<byte> body)
        {
            if (body.IsEmpty)
            {
                return Empty;
            }
            try
            {
                var reader = new Utf8JsonReader(body);
                using var document = JsonDocument.ParseValue(ref reader);
                var root = document.RootElement;
                return root.ValueKind == JsonValueKind.Object ? FromObject(root) : Empty;
            }
            catch (JsonException)
            {
                return Empty; // A proxy's HTML page, say: the status alone classifies it.
            }
        }

        private static ErrorBody FromObject(JsonElement root)
        {
            var nested = root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                ? error
                : default;
            return new ErrorBody(
                Code: Text(nested, "code") ?? Text(root, "code"),
                Message: MessageOf(nested) ?? MessageOf(root) ?? Text(root, "error"),
                Field: Text(nested, "field") ?? Text(root, "field"),
                RetryAfter: Seconds(nested) ?? Seconds(root),
                RequestId: Text(nested, "requestId") ?? Text(root, "requestId"),
                CustomerId: Text(nested, "customerId") ?? Text(root, "customerId"));
        }

        private static string? Text(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) &&
            value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
                ? text
                : null;

        private static string? MessageOf(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("message", out var value))
            {
                return null;
            }
            if (value.ValueKind == JsonValueKind.Array)
            {
                var parts = value.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String)
                    .Select(p => p.GetString()!.Trim()).Where(p => p.Length > 0).ToList();
                return parts.Count > 0 ? string.Join("; ", parts) : null;
            }
            return Text(element, "message");
        }

        private static TimeSpan? Seconds(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object ||
                !element.TryGetProperty("retryAfterSeconds", out var value))
            {
                return null;
            }
            var seconds = value.ValueKind switch
            {
                JsonValueKind.Number when value.TryGetDouble(out var number) => number,
                JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float,
                    CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => double.NaN,
            };
            // Bounded so a hostile or broken value cannot overflow TimeSpan; a day is already "give up".
            return double.IsFinite(seconds) && seconds >= 0 ? TimeSpan.FromSeconds(Math.Min(seconds, 86_400)) : null;
        }
    }
}
