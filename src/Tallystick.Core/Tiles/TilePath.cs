using System.Globalization;
using System.Text;

namespace Tallystick.Tiles;

/// <summary>
/// The address of one C2SP tlog-tiles resource, relative to the log's URL prefix: a hash tile
/// <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c> or an entry bundle <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>.
/// The index N is written as 3-digit path elements, all but the last prefixed with <c>x</c>
/// (1234067 → <c>x001/x234/067</c>); <c>.p/W</c> marks a partial tile of W (1..255) hashes or entries.
/// Only the canonical form is accepted (no leading zeros in L or W, no leading <c>x000</c> element), so every
/// resource has exactly one path. Instances are immutable; equality compares all members.
/// </summary>
public readonly record struct TilePath
{
    /// <summary>Hashes in a full tile, entries in a full bundle (tlog-tiles: 256, so 8,192 bytes of hashes).</summary>
    public const int FullWidth = 256;

    /// <summary>Tree levels covered by one tile level: a tile is a subtree of height 8.</summary>
    public const int TileHeight = 8;

    /// <summary>The highest hash-tile level the specification allows.</summary>
    public const int LevelMax = 63;

    /// <summary>Index path elements at most: 7 groups of 3 digits hold every non-negative <see cref="long"/>.</summary>
    private const int IndexElementsMax = 7;

    private const string Prefix = "tile/";
    private const string EntriesPrefix = "entries/";

    private TilePath(bool isEntryBundle, int level, long index, int width)
    {
        IsEntryBundle = isEntryBundle;
        Level = level;
        Index = index;
        Width = width;
    }

    /// <summary>True for an entry bundle (<c>tile/entries/…</c>), false for a hash tile.</summary>
    public bool IsEntryBundle { get; }

    /// <summary>The tile level L (0..63): its hashes are tree nodes at height 8L. 0 for entry bundles.</summary>
    public int Level { get; }

    /// <summary>The tile index N within its level; the tile holds items <c>[256N, 256N + Width)</c> of the
    /// level.</summary>
    public long Index { get; }

    /// <summary>The number of hashes (or entries): <see cref="FullWidth"/> for a full tile, 1..255 for a partial
    /// one.</summary>
    public int Width { get; }

    /// <summary>True when <see cref="Width"/> is below <see cref="FullWidth"/> (the path ends in
    /// <c>.p/W</c>).</summary>
    public bool IsPartial => Width < FullWidth;

    /// <summary>Addresses a hash tile.</summary>
    /// <param name="level">0..<see cref="LevelMax"/>.</param>
    /// <param name="index">Not negative.</param>
    /// <param name="width">1..<see cref="FullWidth"/>.</param>
    /// <returns>The tile's address.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static TilePath HashTile(int level, long index, int width = FullWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, LevelMax);
        return new TilePath(false, level, CheckIndex(index), CheckWidth(width));
    }

    /// <summary>Addresses an entry bundle.</summary>
    /// <param name="index">Not negative.</param>
    /// <param name="width">1..<see cref="FullWidth"/>.</param>
    /// <returns>The bundle's address.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static TilePath EntryBundle(long index, int width = FullWidth) =>
        new(true, 0, CheckIndex(index), CheckWidth(width));

    /// <summary>Encodes a tile index as tlog-tiles path elements: 0 → <c>000</c>, 1234067 →
    /// <c>x001/x234/067</c>.</summary>
    /// <param name="index">Not negative.</param>
    /// <returns>The path elements, without leading or trailing slash.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public static string FormatIndex(long index)
    {
        CheckIndex(index);
        var builder = new StringBuilder();
        AppendIndex(builder, index);
        return builder.ToString();
    }

    /// <summary>Parses a canonical tile path such as <c>tile/1/x001/234.p/17</c> or <c>tile/entries/000</c>.</summary>
    /// <param name="path">The path relative to the log prefix, starting with <c>tile/</c>; no query, no
    /// percent-encoding, no trailing slash.</param>
    /// <param name="tile">The address on success; default otherwise.</param>
    /// <param name="error">Why the path is malformed (e.g. <c>"tile width 0 is not in 1..255"</c>); null on
    /// success.</param>
    /// <returns>True when <paramref name="path"/> is a canonical tile path.</returns>
    public static bool TryParse(ReadOnlySpan<char> path, out TilePath tile, out string? error)
    {
        tile = default;
        error = Parse(path, out tile);
        return error is null;
    }

    /// <summary>Formats the canonical path, starting with <c>tile/</c> (for example
    /// <c>tile/0/x001/x234/067.p/5</c>); <see cref="TryParse"/> accepts it back.</summary>
    /// <returns>The path relative to the log prefix.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder(Prefix);
        if (IsEntryBundle)
        {
            builder.Append(EntriesPrefix);
        }
        else
        {
            builder.Append(Level.ToString(CultureInfo.InvariantCulture)).Append('/');
        }
        AppendIndex(builder, Index);
        if (IsPartial)
        {
            builder.Append(".p/").Append(Width.ToString(CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    private static string? Parse(ReadOnlySpan<char> path, out TilePath tile)
    {
        tile = default;
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "a tile path starts with 'tile/'";
        }
        var rest = path[Prefix.Length..];
        bool entries = rest.StartsWith(EntriesPrefix, StringComparison.Ordinal);
        int level = 0;
        if (entries)
        {
            rest = rest[EntriesPrefix.Length..];
        }
        else
        {
            int slash = rest.IndexOf('/');
            if (slash < 0 || !TryParseDecimal(rest[..slash], LevelMax, out level))
            {
                return "the tile level must be a decimal integer from 0 to 63 without leading zeros";
            }
            rest = rest[(slash + 1)..];
        }

        long index = 0;
        int width = FullWidth;
        for (int element = 0; ; element++)
        {
            if (element == IndexElementsMax)
            {
                return $"a tile index has at most {IndexElementsMax} path elements";
            }
            int slash = rest.IndexOf('/');
            var part = slash < 0 ? rest : rest[..slash];
            bool prefixed = part.Length > 0 && part[0] == 'x';
            if (prefixed)
            {
                if (slash < 0 || part.Length != 4 || !IsThreeDigits(part[1..]))
                {
                    return "every index element but the last is 'x' and 3 digits";
                }
                if (element == 0 && part[1..].SequenceEqual("000"))
                {
                    return "the tile index has a leading x000 element (not canonical)";
                }
                if (!TryAppendGroup(ref index, Digits(part[1..])))
                {
                    return "the tile index is too large";
                }
                rest = rest[(slash + 1)..];
                continue;
            }
            if (part.Length < 3 || !IsThreeDigits(part[..3]))
            {
                return "the last index element is 3 digits";
            }
            if (!TryAppendGroup(ref index, Digits(part[..3])))
            {
                return "the tile index is too large";
            }
            var suffix = part[3..];
            if (suffix.Length == 0)
            {
                if (slash >= 0)
                {
                    return "unexpected path elements after the tile index";
                }
                break;
            }
            if (!suffix.SequenceEqual(".p") || slash < 0)
            {
                return "the index may only be followed by '.p/<width>'";
            }
            var widthText = rest[(slash + 1)..];
            if (!TryParseDecimal(widthText, FullWidth - 1, out width) || width == 0)
            {
                return $"tile width '{widthText}' is not a decimal integer from 1 to 255 without leading zeros";
            }
            break;
        }
        tile = new TilePath(entries, level, index, width);
        return null;
    }

    private static bool TryParseDecimal(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 3 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = (value * 10) + (c - '0');
        }
        return value <= max;
    }

    private static bool TryAppendGroup(ref long index, long group)
    {
        if (index > (long.MaxValue - group) / 1000)
        {
            return false;
        }
        index = (index * 1000) + group;
        return true;
    }

    private static bool IsThreeDigits(ReadOnlySpan<char> text) =>
        text.Length == 3 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]);

    private static long Digits(ReadOnlySpan<char> text) =>
        ((text[0] - '0') * 100) + ((text[1] - '0') * 10) + (text[2] - '0');

    private static void AppendIndex(StringBuilder builder, long index)
    {
        Span<int> groups = stackalloc int[IndexElementsMax];
        int count = 0;
        do
        {
            groups[count++] = (int)(index % 1000);
            index /= 1000;
        }
        while (index > 0);
        for (int i = count - 1; i >= 0; i--)
        {
            if (i > 0)
            {
                builder.Append('x');
            }
            builder.Append(groups[i].ToString("D3", CultureInfo.InvariantCulture));
            if (i > 0)
            {
                builder.Append('/');
            }
        }
    }

    private static long CheckIndex(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return index;
    }

    private static int CheckWidth(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, FullWidth);
        return width;
    }
}
