using System.Globalization;

namespace Tallystick.Server.Deltas;

/// <summary>Record ids on the wire: <c>rec_</c> followed by the record number.</summary>
internal static class RecordIds
{
    public const string Prefix = "rec_";

    public static string Format(long id) => Prefix + id.ToString(CultureInfo.InvariantCulture);

    public static long? TryParse(string text) =>
        text.StartsWith(Prefix, StringComparison.Ordinal) && text.Length <= 24 &&
        long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : null;
}
