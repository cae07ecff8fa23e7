using System.Diagnostics;
using System.Globalization;

namespace Tallystick.Bench;

/// <summary>
/// Drives load with wrk (C, epoll, LuaJIT request scripts): far cheaper per request than a .NET client, which
/// matters on a 2-core machine where the load generator shares the CPU with the server under test.
/// </summary>
internal sealed class WrkLoad : ILoadGenerator, IDisposable
{
    private const string Common = """
        local threadcount = 0
        local counter = 0
        local prefix, customers, nthreads, query, offset = "x", 10000, 1, "", 0

        function setup(thread)
          thread:set("tid", threadcount)
          threadcount = threadcount + 1
        end

        function init(args)
          prefix = args[1]
          customers = tonumber(args[2])
          nthreads = tonumber(args[3])
          query = args[5] or ""
          offset = tonumber(args[6] or "0")
          wrk.headers["Content-Type"] = "application/json"
          wrk.headers["X-Api-Key"] = args[4]
          math.randomseed(tid * 7919 + os.time())
        end

        local function item(c, ref)
          return string.format('{"customerId":"cust_%d","delta":-1.25,"reason":"usage","referenceId":"%s"}', c, ref)
        end

        function done(summary, latency, requests)
          local e = summary.errors
          io.write(string.format("WRK_RESULT requests=%d duration_us=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f " ..
            "max_us=%.0f connect=%d read=%d write=%d status=%d timeout=%d\n",
            summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
            latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
        end

        """;

    private const string EmitScript = Common + """
        function request()
          local c = (tid + counter * nthreads) % customers
          local body = item(c, prefix .. "-" .. tid .. "-" .. counter)
          counter = counter + 1
          return wrk.format("POST", "/api/v1/balance/delta", nil, body)
        end
        """;

    private const string BatchScript = Common + """
        function request()
          local parts = {}
          for i = 1, 100 do
            local c = (tid + counter * nthreads) % customers
            parts[i] = item(c, prefix .. "-" .. tid .. "-" .. counter)
            counter = counter + 1
          end
          return wrk.format("POST", "/api/v1/balance/delta/batch", nil, '{"deltas":[' .. table.concat(parts, ",") .. ']}')
        end
        """;

    private const string DeriveScript = Common + """
        function request()
          return wrk.format("GET", "/api/v1/balance/derive/cust_" .. math.random(0, customers - 1) .. query)
        end
        """;

    // Same path text as Bodies.TilePath.
    private const string TileScript = Common + """
        local function tilepath(n)
          local s = tostring(n)
          s = string.rep("0", (3 - #s % 3) % 3) .. s
          local parts = {}
          for k = 1, #s, 3 do parts[#parts + 1] = s:sub(k, k + 2) end
          for k = 1, #parts - 1 do parts[k] = "x" .. parts[k] end
          return table.concat(parts, "/")
        end

        function request()
          return wrk.format("GET", "/log/tile/0/" .. tilepath(math.random(0, customers - 1)))
        end
        """;

    private const string RandomPathScript = Common + """
        function request()
          return wrk.format("GET", prefix .. string.format("%d", offset + math.random(0, customers - 1)) .. query)
        end
        """;

    private readonly string _path;
    private readonly string _scripts;

    private WrkLoad(string path, string version)
    {
        _path = path;
        Description = $"{version} ({Environment.ProcessorCount} threads)";
        _scripts = Path.Combine(Path.GetTempPath(), $"tally-bench-wrk-{Environment.ProcessId}");
        Directory.CreateDirectory(_scripts);
        File.WriteAllText(Path.Combine(_scripts, "emit.lua"), EmitScript);
        File.WriteAllText(Path.Combine(_scripts, "batch.lua"), BatchScript);
        File.WriteAllText(Path.Combine(_scripts, "derive.lua"), DeriveScript);
        File.WriteAllText(Path.Combine(_scripts, "tiles.lua"), TileScript);
        File.WriteAllText(Path.Combine(_scripts, "random-path.lua"), RandomPathScript);
    }

    public string Description { get; }

    /// <summary>wrk from PATH, or null when it is not installed (bench/run.sh installs it).</summary>
    public static WrkLoad? TryCreate()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var candidate = Path.Combine(directory, "wrk");
            if (directory.Length > 0 && File.Exists(candidate))
            {
                var version = Capture(candidate, ["-v"]).Split('\n')[0].Trim();
                return new WrkLoad(candidate, version.Length > 0 ? version.Split('[')[0].Trim() : "wrk");
            }
        }
        return null;
    }

    public async Task<LoadResult> RunAsync(LoadSpec spec)
    {
        var threads = Math.Min(Environment.ProcessorCount, spec.Connections);
        var seconds = Math.Max(1, (int)Math.Round(spec.Duration.TotalSeconds));
        var script = spec.Kind switch
        {
            LoadKind.Emit => "emit.lua",
            LoadKind.Batch => "batch.lua",
            LoadKind.Tiles => "tiles.lua",
            LoadKind.RandomPath => "random-path.lua",
            _ => "derive.lua",
        };
        string[] args =
        [
            "-t" + threads.ToString(CultureInfo.InvariantCulture),
            "-c" + spec.Connections.ToString(CultureInfo.InvariantCulture),
            "-d" + seconds.ToString(CultureInfo.InvariantCulture) + "s",
            "--timeout", "10s",
            "-s", Path.Combine(_scripts, script),
            spec.BaseUri.ToString().TrimEnd('/'),
            "--", spec.Prefix, spec.Customers.ToString(CultureInfo.InvariantCulture),
            threads.ToString(CultureInfo.InvariantCulture), ServerProcess.ApiKey, spec.Query,
            spec.Offset.ToString(CultureInfo.InvariantCulture),
        ];
        var output = await Task.Run(() => Capture(_path, args));
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRK_RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk gave no result:\n" + output);
        var values = line["WRK_RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var failed = values["status"] + values["timeout"] + values["read"] + values["write"] + values["connect"];
        var detail = failed > 0
            ? $"non-2xx {values["status"]:0}, timeouts {values["timeout"]:0}, read {values["read"]:0}, " +
                $"write {values["write"]:0}, connect {values["connect"]:0}"
            : "";
        // wrk counts socket errors apart from requests; never report more failures than requests.
        return new LoadResult((long)values["requests"], (long)Math.Min(values["status"] + values["timeout"], values["requests"]),
            values["duration_us"] / 1e6, values["p50_us"] / 1000, values["p90_us"] / 1000, values["p99_us"] / 1000,
            values["max_us"] / 1000, detail);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scripts, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Capture(string path, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + path);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return stdout + stderr.Result;
    }
}
