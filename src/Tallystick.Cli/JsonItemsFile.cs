using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tallystick.Cli;

/// <summary>
/// Reads a file of wire records (deltas for <c>tally emit --file</c>, record views for <c>tally compare</c>): a
/// <c>.json</c> file holds an array, or an object with the array in <c>member</c> (a batch body
/// <c>{"deltas": [...]}</c>); any other file is JSON Lines, one record per non-blank line. Each item is parsed with the
/// wire contract, so a file the server would refuse field by field is refused here, naming its line or item.
/// </summary>
internal static class JsonItemsFile
{
    public static (List<T>? Items, string? Problem) Read<T>(string path, JsonTypeInfo<T> type, string member,
        int itemsMax)
    {
        try
        {
            var items = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? ReadDocument(path, type, member)
                : ReadLines(path, type, itemsMax);
            if (items.Count == 0)
            {
                return (null, $"{path} holds no {member}");
            }
            if (items.Count > itemsMax)
            {
                return (null, $"{path} holds more than {itemsMax} {member}; split the file");
            }
            return (items, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (null, $"cannot read {path}: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            return (null, $"{path}: {e.Message}");
        }
    }

    private static List<T> ReadDocument<T>(string path, JsonTypeInfo<T> type, string member)
    {
        using var stream = File.OpenRead(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(member, out var inner))
            {
                root = inner;
            }
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"want an array, or an object with a \"{member}\" array");
            }
            return root.EnumerateArray().Select((item, i) => Parse(item.GetRawText(), type, $"item {i + 1}")).ToList();
        }
    }

    private static List<T> ReadLines<T>(string path, JsonTypeInfo<T> type, int itemsMax)
    {
        var items = new List<T>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            items.Add(Parse(line, type, $"line {number}"));
            if (items.Count > itemsMax)
            {
                break; // Enough to report the limit without reading the rest.
            }
        }
        return items;
    }

    private static T Parse<T>(string json, JsonTypeInfo<T> type, string where)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new InvalidDataException($"{where}: null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}");
        }
    }
}
