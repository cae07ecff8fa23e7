using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tallystick.Server.Tenants;

namespace Tallystick.Server;

/// <summary>Request plumbing shared by the endpoints: the authenticated plane, bodies, query numbers.</summary>
internal static class Http
{
    private const string PlaneItem = "tally.plane";

    public static void SetPlane(HttpContext context, Plane plane) => context.Items[PlaneItem] = plane;

    public static Plane Plane(HttpContext context) =>
        context.Items[PlaneItem] as Plane ?? throw new InvalidOperationException("endpoint reached without authentication");

    /// <summary>Reads a JSON body of at most <paramref name="maxBytes"/>; refuses other content types and larger bodies.</summary>
    public static async Task<(byte[]? Body, ApiError? Error)> ReadJsonBody(HttpContext context, int maxBytes)
    {
        var request = context.Request;
        var contentType = request.ContentType;
        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new ApiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"));
        }
        var tooLarge = new ApiError("PAYLOAD_TOO_LARGE", $"the body exceeds {maxBytes} bytes");
        if (request.ContentLength > maxBytes)
        {
            return (null, tooLarge);
        }
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, maxBytes) + 1);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, context.RequestAborted);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return (null, tooLarge);
            }
        }
        return (buffer.WrittenSpan.ToArray(), null);
    }

    /// <summary>Reads an optional integer query parameter within [min, max].</summary>
    public static (long Value, ApiError? Error) QueryNumber(HttpContext context, string name, long fallback, long min, long max)
    {
        var raw = context.Request.Query[name];
        if (raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return (fallback, null);
        }
        if (raw.Count > 1 || !long.TryParse(raw[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ||
            value < min || value > max)
        {
            return (fallback, new ApiError("INVALID_QUERY", $"'{name}' must be an integer from {min} to {max}", name));
        }
        return (value, null);
    }
}
