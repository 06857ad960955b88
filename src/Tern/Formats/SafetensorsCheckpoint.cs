using System.Text.Json;

namespace Tern.Formats;

/// <summary>
/// The weights of a Hugging Face model folder: either one <c>model.safetensors</c>, or
/// <c>model.safetensors.index.json</c> whose "weight_map" sends each tensor name to a shard file in the folder.
/// Every shard is opened (memory-mapped) and every tensor the index names is checked to be in its shard.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsTensor> _tensors;
    private readonly List<SafetensorsFile> _files;

    public string Directory { get; }

    /// <summary>The shards in the order their names sort (one for a single-file checkpoint).</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>All tensor names, digit runs compared as numbers ("layers.2" before "layers.10"): stable across runs and shardings.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>The index's "metadata" (e.g. total_size) as raw JSON text per key, or the single file's "__metadata__".</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsCheckpoint(string directory, List<SafetensorsFile> files, Dictionary<string, SafetensorsTensor> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        Directory = directory;
        _files = files;
        _tensors = tensors;
        Metadata = metadata;
        var names = tensors.Keys.ToList();
        names.Sort(NaturalStringComparer.Instance);
        TensorNames = names;
    }

    public int Count => _tensors.Count;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafetensorsTensor? tensor) =>
        _tensors.TryGetValue(name, out tensor);

    public SafetensorsTensor GetTensor(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Directory}: checkpoint has no tensor named '{name}'");

    /// <summary>Tensors in <see cref="TensorNames"/> order.</summary>
    public IEnumerable<SafetensorsTensor> Tensors => TensorNames.Select(n => _tensors[n]);

    /// <summary>Opens a model folder (or a .safetensors / index .json file directly).</summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        if (File.Exists(path))
        {
            string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(dir, path) : OpenSingle(dir, path);
        }
        if (!System.IO.Directory.Exists(path))
            throw new DirectoryNotFoundException($"{path}: no such checkpoint folder or file");
        string index = System.IO.Path.Combine(path, IndexFileName);
        if (File.Exists(index))
            return OpenIndex(path, index);
        string single = System.IO.Path.Combine(path, SingleFileName);
        if (File.Exists(single))
            return OpenSingle(path, single);
        throw new FileNotFoundException($"{path}: neither {SingleFileName} nor {IndexFileName} is in this folder");
    }

    private static SafetensorsCheckpoint OpenSingle(string dir, string file)
    {
        var f = SafetensorsFile.Open(file);
        var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (var t in f.Tensors)
            tensors[t.Name] = new SafetensorsTensor(f, t);
        return new SafetensorsCheckpoint(dir, [f], tensors, f.Metadata);
    }

    private static SafetensorsCheckpoint OpenIndex(string dir, string indexPath)
    {
        var (weightMap, metadata) = ReadIndex(indexPath);
        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(NaturalStringComparer.Instance))
            {
                string shardPath = System.IO.Path.Combine(dir, shard);
                if (!File.Exists(shardPath))
                    throw new InvalidDataException($"{indexPath}: shard '{shard}' named in weight_map is missing from {dir}");
                var f = SafetensorsFile.Open(shardPath);
                files.Add(f);
                byShard[shard] = f;
            }

            var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                var f = byShard[shard];
                if (!f.TryGetTensor(name, out var info))
                    throw new InvalidDataException($"{indexPath}: weight_map puts tensor '{name}' in '{shard}', which does not hold it");
                tensors[name] = new SafetensorsTensor(f, info);
            }
            return new SafetensorsCheckpoint(dir, files, tensors, metadata);
        }
        catch
        {
            foreach (var f in files)
                f.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, string> WeightMap, Dictionary<string, string> Metadata) ReadIndex(string indexPath)
    {
        var doc = StrictJson.Parse(File.ReadAllBytes(indexPath), indexPath);
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: the index is a JSON {root.ValueKind}, not an object");
            if (!root.TryGetProperty("weight_map", out var map))
                throw new InvalidDataException($"{indexPath}: missing 'weight_map'");
            if (map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: 'weight_map' is a JSON {map.ValueKind}, not an object");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{indexPath}: 'weight_map.{p.Name}' is a JSON {p.Value.ValueKind}, not a file name");
                string shard = p.Value.GetString()!;
                // The index is data from the internet: it may name files only inside the model folder.
                if (shard.Length == 0 || System.IO.Path.GetFileName(shard) != shard || shard is "." or "..")
                    throw new InvalidDataException($"{indexPath}: 'weight_map.{p.Name}' names '{shard}', which is not a file in the model folder");
                if (!weightMap.TryAdd(p.Name, shard))
                    throw new InvalidDataException($"{indexPath}: 'weight_map' names tensor '{p.Name}' twice");
            }
            if (weightMap.Count == 0)
                throw new InvalidDataException($"{indexPath}: 'weight_map' is empty");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in meta.EnumerateObject())
                    metadata[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            return (weightMap, metadata);
        }
    }

    public void Dispose()
    {
        foreach (var f in _files)
            f.Dispose();
    }
}
