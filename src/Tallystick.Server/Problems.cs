using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tallystick.Wire;

namespace Tallystick.Server;

/// <summary>
/// Every error code the API can answer with, mapped in this one place to its HTTP status.
/// docs/api.md lists them with their meaning; a test checks that every code is documented.
/// </summary>
internal static class ErrorCodes
{
    public static readonly IReadOnlyDictionary<string, int> HttpStatus = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["VALIDATION_ERROR"] = 400,
        ["MALFORMED_JSON"] = 400,
        ["INVALID_ENCODING"] = 400,
        ["INVALID_BODY"] = 400,
        ["MISSING_FIELD"] = 400,
        ["UNKNOWN_FIELD"] = 400,
        ["DUPLICATE_FIELD"] = 400,
        ["INVALID_CUSTOMER_ID"] = 400,
        ["INVALID_DELTA"] = 400,
        ["DELTA_MUST_NOT_BE_ZERO"] = 400,
        ["DELTA_OUT_OF_RANGE"] = 400,
        ["DELTA_PRECISION_EXCEEDED"] = 400,
        ["INVALID_REASON"] = 400,
        ["INVALID_REFERENCE_ID"] = 400,
        ["INVALID_METADATA"] = 400,
        ["METADATA_TOO_LARGE"] = 400,
        ["METADATA_TOO_DEEP"] = 400,
        ["BATCH_EMPTY"] = 400,
        ["BATCH_TOO_LARGE"] = 400,
        ["INVALID_IDEMPOTENCY_KEY"] = 400,
        ["INVALID_QUERY"] = 400,
        ["INVALID_PERIOD"] = 400,
        ["INVALID_TIME_PRESET"] = 400,
        ["INVALID_DATE"] = 400,
        ["INVALID_DATE_RANGE"] = 400,
        ["INVALID_GRANULARITY"] = 400,
        ["INVALID_STARTING_BALANCE"] = 400,
        ["INVALID_CHECKPOINT_TYPE"] = 400,
        ["INVALID_CHECKPOINT"] = 400,
        ["INVALID_SCOPE_COMBINATION"] = 400,
        ["SCOPE_TOO_WIDE"] = 400,
        ["INVALID_TOLERANCE"] = 400,
        ["TOO_MANY_RECORDS"] = 400,
        ["INVALID_TILE_PATH"] = 400,
        ["LEAF_INDEX_OUT_OF_RANGE"] = 400,
        ["TREE_SIZE_NOT_PUBLISHED"] = 400,
        ["CONSISTENCY_RANGE_INVALID"] = 400,
        ["EMPTY_WINDOW"] = 400,
        ["WEBHOOK_URL_NOT_ALLOWED"] = 400,
        ["WEBHOOK_ENDPOINTS_LIMIT"] = 409,
        ["INVALID_API_KEY"] = 401,
        ["NOT_FOUND"] = 404,
        ["RECORD_NOT_FOUND"] = 404,
        ["CUSTOMER_NOT_FOUND"] = 404,
        ["CHECKPOINT_NOT_FOUND"] = 404,
        ["TILE_NOT_FOUND"] = 404,
        ["PROOF_ROOT_NOT_FOUND"] = 404,
        ["WEBHOOK_ENDPOINT_NOT_FOUND"] = 404,
        ["WEBHOOK_EVENT_NOT_FOUND"] = 404,
        ["IDEMPOTENCY_KEY_REUSED"] = 409,
        ["REFERENCE_ID_CONFLICT"] = 409,
        ["PROOF_NOT_READY"] = 409,
        ["PAYLOAD_TOO_LARGE"] = 413,
        ["UNSUPPORTED_MEDIA_TYPE"] = 415,
        ["BALANCE_LIMIT_EXCEEDED"] = 422,
        ["INTERNAL_ERROR"] = 500,
        ["SERVICE_UNAVAILABLE"] = 503,
    };
}

/// <summary>An expected failure, as a value: a code from <see cref="ErrorCodes"/>, a message and the field at fault.</summary>
internal sealed record ApiError(string Code, string Message, string? Field = null, int? RetryAfterSeconds = null)
{
    public int HttpStatus => ErrorCodes.HttpStatus.TryGetValue(Code, out var status)
        ? status
        : throw new InvalidOperationException($"error code {Code} has no HTTP mapping");

    public ErrorEnvelope ToEnvelope() => new()
    {
        Success = false,
        StatusCode = HttpStatus,
        Code = Code,
        Message = Message,
        RetryAfterSeconds = RetryAfterSeconds,
        Error = new ErrorDetail { Code = Code, Message = Message, Field = Field, RetryAfterSeconds = RetryAfterSeconds },
    };
}

/// <summary>Writes success and error envelopes.</summary>
internal static class Responses
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public static Task WriteError(HttpContext context, ApiError error)
    {
        context.Response.StatusCode = error.HttpStatus;
        if (error.HttpStatus == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of the oversized body is never read: close the connection instead of draining it.
            context.Response.Headers.Connection = "close";
        }
        if (error.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return WriteBytes(context, error.HttpStatus,
            JsonSerializer.SerializeToUtf8Bytes(error.ToEnvelope(), WireJson.Default.ErrorEnvelope));
    }

    public static Task Write<T>(HttpContext context, int status, T data,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<Envelope<T>> typeInfo) =>
        WriteBytes(context, status, JsonSerializer.SerializeToUtf8Bytes(new Envelope<T>(true, data), typeInfo));

    public static Task WriteBytes(HttpContext context, int status, ReadOnlyMemory<byte> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body).AsTask();
    }
}
