using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tallystick.Canonical;

namespace Tallystick.Server.Deltas;

/// <summary>
/// Parses and validates emit bodies strictly: UTF-8 only, RFC 8259 JSON only, no duplicate or unknown members,
/// exact decimals. Every refusal is an <see cref="ApiError"/> naming the field; nothing here has side effects.
/// </summary>
internal static partial class EmitParser
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static (DeltaDraft? Draft, ApiError? Error) ParseSingle(ReadOnlySpan<byte> body)
    {
        var pre = CheckDocument(body);
        if (pre is not null)
        {
            return (null, pre);
        }
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, new ApiError("INVALID_BODY", "the body must be a JSON object describing one delta"));
            }
            var item = ParseItem(ref reader, "");
            return (item.Draft, item.Error);
        }
        catch (JsonException e)
        {
            return (null, Malformed(e));
        }
    }

    public static (IReadOnlyList<ParsedItem>? Items, ApiError? Error) ParseBatch(ReadOnlySpan<byte> body)
    {
        var pre = CheckDocument(body);
        if (pre is not null)
        {
            return (null, pre);
        }
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, new ApiError("INVALID_BODY", "the body must be a JSON object {\"deltas\": [...]}"));
            }
            List<ParsedItem>? items = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = TryGetString(ref reader) ?? "\uFFFD";
                reader.Read();
                if (name != "deltas")
                {
                    return (null, new ApiError("UNKNOWN_FIELD", $"unknown member '{name}'; a batch has only 'deltas'", name));
                }
                if (items is not null)
                {
                    return (null, new ApiError("DUPLICATE_FIELD", "member 'deltas' appears twice", "deltas"));
                }
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    return (null, new ApiError("INVALID_BODY", "'deltas' must be an array of 1–100 deltas", "deltas"));
                }
                items = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (items.Count == Limits.BatchDeltasMax)
                    {
                        return (null, new ApiError("BATCH_TOO_LARGE",
                            $"a batch holds at most {Limits.BatchDeltasMax} deltas; split it", "deltas"));
                    }
                    var path = $"deltas[{items.Count}].";
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        items.Add(new ParsedItem(null, new ApiError("INVALID_BODY", "each delta must be a JSON object",
                            path.TrimEnd('.')), null, null));
                        continue;
                    }
                    items.Add(ParseItem(ref reader, path));
                }
            }
            if (items is null)
            {
                return (null, new ApiError("MISSING_FIELD", "member 'deltas' is required", "deltas"));
            }
            if (items.Count == 0)
            {
                return (null, new ApiError("BATCH_EMPTY", "'deltas' must hold at least one delta", "deltas"));
            }
            return (items, null);
        }
        catch (JsonException e)
        {
            return (null, Malformed(e));
        }
    }

    /// <summary>Checks the whole body before parsing: valid UTF-8 and a single well-formed JSON value.</summary>
    private static ApiError? CheckDocument(ReadOnlySpan<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return new ApiError("INVALID_ENCODING", "the body is not valid UTF-8");
        }
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            while (reader.Read())
            {
            }
            return null;
        }
        catch (JsonException e)
        {
            return Malformed(e);
        }
    }

    private static ApiError Malformed(JsonException e) =>
        new("MALFORMED_JSON", $"the body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");

    /// <summary>Reads one delta object; the reader is on its StartObject and ends on its EndObject.</summary>
    private static ParsedItem ParseItem(ref Utf8JsonReader reader, string path)
    {
        string? customerId = null, reason = null, referenceId = null, metadata = null;
        Amount? amount = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        ApiError? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = TryGetString(ref reader) ?? "\uFFFD";
            reader.Read();
            if (error is not null)
            {
                reader.Skip();
                continue;
            }
            if (!seen.Add(name))
            {
                error = new ApiError("DUPLICATE_FIELD", $"member '{name}' appears twice", path + name);
                reader.Skip();
                continue;
            }
            switch (name)
            {
                case "customerId":
                    error = ReadCustomerId(ref reader, path + name, out customerId);
                    break;
                case "delta":
                    error = ReadDelta(ref reader, path + name, out amount);
                    break;
                case "reason":
                    error = ReadText(ref reader, path + name, "reason", "INVALID_REASON", Limits.ReasonCharsMax,
                        nullable: false, out reason);
                    break;
                case "referenceId":
                    error = ReadText(ref reader, path + name, "referenceId", "INVALID_REFERENCE_ID",
                        Limits.ReferenceIdCharsMax, nullable: true, out referenceId);
                    break;
                case "metadata":
                    error = ReadMetadata(ref reader, path + name, out metadata);
                    break;
                default:
                    error = new ApiError("UNKNOWN_FIELD",
                        $"unknown member '{name}'; a delta has customerId, delta, reason, referenceId, metadata", path + name);
                    reader.Skip();
                    break;
            }
        }
        error ??= customerId is null ? Missing(path, "customerId")
            : amount is null ? Missing(path, "delta")
            : reason is null ? Missing(path, "reason")
            : null;
        var draft = error is null ? new DeltaDraft(customerId!, amount!.Value, reason!, referenceId, metadata) : null;
        return new ParsedItem(draft, error, customerId, amount);
    }

    private static ApiError Missing(string path, string name) => new("MISSING_FIELD", $"member '{name}' is required", path + name);

    private static ApiError? ReadCustomerId(ref Utf8JsonReader reader, string field, out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            var got = Describe(reader.TokenType);
            reader.Skip();
            return new ApiError("INVALID_CUSTOMER_ID", $"customerId must be a string, got {got}", field);
        }
        var text = TryGetString(ref reader);
        if (text is null || !CustomerIdPattern().IsMatch(text))
        {
            return new ApiError("INVALID_CUSTOMER_ID",
                $"customerId must be 1–{Limits.CustomerIdCharsMax} characters of letters, digits, '_', '-', '.', ':'", field);
        }
        value = text;
        return null;
    }

    private static ApiError? ReadDelta(ref Utf8JsonReader reader, string field, out Amount? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.Number)
        {
            var got = Describe(reader.TokenType);
            reader.Skip();
            return new ApiError("INVALID_DELTA", $"delta must be a JSON number, got {got}", field);
        }
        var literal = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        var parse = Amount.TryParseJsonNumber(literal, out var amount);
        var range = $"between -{Limits.DeltaAbsMax} and {Limits.DeltaAbsMax}";
        switch (parse)
        {
            case AmountParseError.PrecisionExceeded:
                return new ApiError("DELTA_PRECISION_EXCEEDED",
                    $"delta has more than {Amount.FractionDigitsMax} fraction digits; it is refused rather than rounded", field);
            case AmountParseError.OutOfRange:
                return new ApiError("DELTA_OUT_OF_RANGE", $"delta must be {range}", field);
            case AmountParseError.NotANumber:
                return new ApiError("INVALID_DELTA", "delta is not a valid JSON number", field);
        }
        if (amount.IsZero)
        {
            return new ApiError("DELTA_MUST_NOT_BE_ZERO", "delta must not be zero", field);
        }
        if (amount.Abs() > Limits.DeltaAbsMax)
        {
            return new ApiError("DELTA_OUT_OF_RANGE", $"delta must be {range}", field);
        }
        value = amount;
        return null;
    }

    private static ApiError? ReadText(ref Utf8JsonReader reader, string field, string name, string code, int maxChars,
        bool nullable, out string? value)
    {
        value = null;
        if (nullable && reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            var got = Describe(reader.TokenType);
            reader.Skip();
            return new ApiError(code, $"{name} must be a string, got {got}", field);
        }
        var text = TryGetString(ref reader);
        var problem = text is null ? "contains an unpaired surrogate (not valid Unicode)" : CheckText(text, maxChars);
        if (problem is not null)
        {
            return new ApiError(code, $"{name} {problem}", field);
        }
        value = text;
        return null;
    }

    /// <summary>1..max Unicode scalar values, no lone surrogates, no control characters except tab and newline.</summary>
    private static string? CheckText(string text, int maxChars)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "contains an unpaired surrogate (not valid Unicode)";
            }
            else if (char.IsControl(c) && c is not '\n' and not '\t')
            {
                return "must not contain control characters (other than tab and newline)";
            }
            count++;
        }
        if (count == 0 || count > maxChars)
        {
            return $"must be 1–{maxChars} characters";
        }
        return null;
    }

    private static ApiError? ReadMetadata(ref Utf8JsonReader reader, string field, out string? canonical)
    {
        canonical = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var got = Describe(reader.TokenType);
            reader.Skip();
            return new ApiError("INVALID_METADATA", $"metadata must be a JSON object, got {got}", field);
        }
        var element = JsonElement.ParseValue(ref reader);
        var depthProblem = CheckMetadataValues(element, 1);
        if (depthProblem is not null)
        {
            return new ApiError(depthProblem.Value.Code, depthProblem.Value.Message, field);
        }
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            JsonCanonicalizer.Write(element, buffer);
        }
        catch (ArgumentException e)
        {
            return new ApiError("INVALID_METADATA", $"metadata cannot be canonicalised: {e.Message}", field);
        }
        if (buffer.WrittenCount > Limits.MetadataBytesMax)
        {
            return new ApiError("METADATA_TOO_LARGE",
                $"metadata is {buffer.WrittenCount} bytes in canonical form; the limit is {Limits.MetadataBytesMax}", field);
        }
        canonical = Encoding.UTF8.GetString(buffer.WrittenSpan);
        return null;
    }

    private static (string Code, string Message)? CheckMetadataValues(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object or JsonValueKind.Array when depth > Limits.MetadataDepthMax:
                return ("METADATA_TOO_DEEP", $"metadata nests deeper than {Limits.MetadataDepthMax} levels");
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (CheckMetadataValues(property.Value, depth + 1) is { } p)
                    {
                        return p;
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (CheckMetadataValues(item, depth + 1) is { } p)
                    {
                        return p;
                    }
                }
                break;
            case JsonValueKind.Number:
                var raw = element.GetRawText();
                if (!Es6Number.IsExactlyRepresentable(raw))
                {
                    return ("INVALID_METADATA",
                        $"metadata number {raw} is not exactly representable as an IEEE double; send it as a string");
                }
                break;
        }
        return null;
    }

    /// <summary>The string value, or null when its escapes decode to invalid UTF-16 (a lone surrogate).</summary>
    private static string? TryGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };

    /// <summary>True when <paramref name="customerId"/> is a valid customer id (the same rule as emits).</summary>
    public static bool IsValidCustomerId(string customerId) => CustomerIdPattern().IsMatch(customerId);

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex CustomerIdPattern();
}
