using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace CrossModal.Search.Hnsw;

/// <summary>
/// The functions of USearch's C API (c/usearch.h of unum-cloud/USearch 2.26) that <see cref="HnswIndex"/> needs,
/// called in the native library the Cloud.Unum.USearch package ships (libusearch_c). The package's managed
/// USearchIndex does not expose the thread limits, changing ef at search time, memory usage or serialising to
/// memory, so the wrapper calls the C API directly, with the package's own option and enum types. Every function
/// reports failure through its last argument, a C string owned by the library (null on success).
/// </summary>
internal static unsafe partial class USearchNative
{
    private const string Library = "libusearch_c";

    /// <summary>
    /// usearch_init_options_t, declared here as a plain unmanaged struct passed by pointer (the package's
    /// IndexOptions has a bool, which source-generated P/Invoke does not marshal): C enums are 4 bytes, size_t 8, bool 1.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public MetricKind MetricKind;
        public nint Metric;
        public ScalarKind Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [LibraryImport(Library, EntryPoint = "usearch_init")]
    public static partial nint Init(InitOptions* options, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_free")]
    public static partial void Free(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_memory_usage")]
    public static partial nuint MemoryUsage(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_serialized_length")]
    public static partial nuint SerializedLength(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_save_buffer")]
    public static partial void SaveBuffer(nint index, void* buffer, nuint length, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_load_buffer")]
    public static partial void LoadBuffer(nint index, void* buffer, nuint length, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_view_buffer")]
    public static partial void ViewBuffer(nint index, void* buffer, nuint length, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_save", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void Save(nint index, string path, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void Load(nint index, string path, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_size")]
    public static partial nuint Size(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_dimensions")]
    public static partial nuint Dimensions(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_connectivity")]
    public static partial nuint Connectivity(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_expansion_add")]
    public static partial nuint ExpansionAdd(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_expansion_search")]
    public static partial nuint ExpansionSearch(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_reserve")]
    public static partial void Reserve(nint index, nuint capacity, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_add")]
    public static partial void ChangeExpansionAdd(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")]
    public static partial void ChangeExpansionSearch(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_add")]
    public static partial void ChangeThreadsAdd(nint index, nuint threads, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_search")]
    public static partial void ChangeThreadsSearch(nint index, nuint threads, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_add")]
    public static partial void Add(nint index, ulong key, float* vector, ScalarKind kind, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_search")]
    public static partial nuint Search(nint index, float* query, ScalarKind kind, nuint count, ulong* keys, float* distances, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_version")]
    public static partial nint Version();

    [LibraryImport(Library, EntryPoint = "usearch_hardware_acceleration")]
    public static partial nint HardwareAcceleration(nint index, out nint error);

    /// <summary>Throws with the library's message when <paramref name="error"/> is set.</summary>
    public static void Check(nint error, string what)
    {
        if (error != 0) throw new InvalidOperationException($"USearch {what} failed: {Marshal.PtrToStringUTF8(error)}");
    }

    /// <summary>The library's version string ("2.26.x").</summary>
    public static string VersionString => Marshal.PtrToStringUTF8(Version()) ?? "?";
}
