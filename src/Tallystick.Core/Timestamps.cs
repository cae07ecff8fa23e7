using System.Globalization;

namespace Tallystick;

/// <summary>The one timestamp text form used on the wire and in fingerprints: ISO 8601 UTC with milliseconds.</summary>
public static class Timestamps
{
    /// <summary>Formats Unix milliseconds as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>.</summary>
    public static string Format(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Formats a time as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c> (truncated to milliseconds).</summary>
    public static string Format(DateTimeOffset time) => Format(time.ToUnixTimeMilliseconds());
}
