using System.CommandLine;
using CrossModal.Cli;

return CliApp.Run(args);
