using System.Text;

namespace Tallystick.Cli;

/// <summary>
/// A plain-text table: upper-case headers, columns two spaces apart, chosen columns right-aligned (amounts, counts),
/// no borders and no trailing spaces, so it reads well in a terminal and still splits on whitespace in a pipe.
/// Cells are cut at <see cref="CellCharsMax"/> characters and control characters become spaces, so one long reason
/// or a hostile value cannot break the layout.
/// </summary>
internal sealed class Table
{
    /// <summary>The longest cell shown; longer values end in "…" (the full value is in <c>--json</c>).</summary>
    public const int CellCharsMax = 40;

    private readonly string[] _headers;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers)
    {
        _headers = headers;
        _rightAligned = new bool[headers.Length];
    }

    public int Count => _rows.Count;

    public Table AlignRight(params int[] columns)
    {
        foreach (var column in columns)
        {
            _rightAligned[column] = true;
        }
        return this;
    }

    public void Add(params string?[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"a row needs {_headers.Length} cells, got {cells.Length}", nameof(cells));
        }
        _rows.Add(cells.Select(Clean).ToArray());
    }

    public IEnumerable<string> Render()
    {
        var widths = _headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        yield return Row(_headers, widths);
        foreach (var row in _rows)
        {
            yield return Row(row, widths);
        }
    }

    public void Write()
    {
        foreach (var line in Render())
        {
            Output.Line(line);
        }
    }

    /// <summary>A hash or id shortened for a table: <c>0x</c> and the first 12 hex digits, then "…".</summary>
    public static string Short(string? hash) =>
        hash is null ? "" : hash.Length > 16 ? hash[..14] + "…" : hash;

    private string Row(string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }
            line.Append(_rightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }
        return line.ToString().TrimEnd();
    }

    private static string Clean(string? cell)
    {
        if (string.IsNullOrEmpty(cell))
        {
            return "";
        }
        var text = new string(cell.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return text.Length > CellCharsMax ? text[..(CellCharsMax - 1)] + "…" : text;
    }
}
