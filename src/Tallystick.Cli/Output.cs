using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tallystick.Cli;

/// <summary>
/// Where the client commands write: results on stdout (a human layout, or with <c>--json</c> the wire record), errors
/// and progress on stderr. Colour is used only when stdout is a terminal, <c>NO_COLOR</c> is unset and
/// <c>TERM</c> is not <c>dumb</c>, so redirected or piped output never carries escape codes.
/// </summary>
internal sealed class Output
{
    private static readonly JsonWriterOptions JsonWriting = new()
    {
        Indented = true,
        // Relaxed escaping: for terminals and scripts, not for embedding in HTML ("+" stays "+", not \u002B).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public Output(bool json)
    {
        Json = json;
        Colour = !json && !Console.IsOutputRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
            && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
    }

    /// <summary>True when <c>--json</c> was given: stdout carries exactly one JSON document.</summary>
    public bool Json { get; }

    public bool Colour { get; }

    public string Green(string text) => Colour ? "\e[32m" + text + "\e[0m" : text;

    public string Red(string text) => Colour ? "\e[31m" + text + "\e[0m" : text;

    public string Bold(string text) => Colour ? "\e[1m" + text + "\e[0m" : text;

    public static void Line(string text = "") => Console.Out.WriteLine(text);

    public static void Error(string message) => Console.Error.WriteLine("tally: " + message);

    /// <summary>Prints a wire record exactly as the JSON contract shapes it (camelCase, nulls omitted).</summary>
    public static void WriteJson<T>(T value, JsonTypeInfo<T> type) =>
        WriteJson(writer => JsonSerializer.Serialize(writer, value, type));

    public static void WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, JsonWriting))
        {
            write(writer);
        }
        stdout.WriteByte((byte)'\n');
    }

    /// <summary>Prints labelled values, one per line, labels padded to one column; null values are skipped.</summary>
    public static void Fields(params (string Label, string? Value)[] fields)
    {
        var width = fields.Where(f => f.Value is not null).Select(f => f.Label.Length).DefaultIfEmpty(0).Max();
        foreach (var (label, value) in fields)
        {
            if (value is not null)
            {
                Line(("  " + label.PadRight(width) + "  " + value).TrimEnd());
            }
        }
    }
}
